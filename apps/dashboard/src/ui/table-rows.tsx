import type { ReactNode } from 'react';

/**
 * A table's body while its rows are read: "Loading…" until the first answer, the `empty` note
 * when the answer has no row, the rows once read, and nothing when the read failed (the page
 * says why above the table).
 */
export function TableRows<Row>({
  rows,
  awaitingFirstAnswer,
  columns,
  empty,
  children,
}: {
  /** The rows read; null while none has been read (before the first answer, or after it failed). */
  readonly rows: readonly Row[] | null;
  readonly awaitingFirstAnswer: boolean;
  /** How many columns the notes span. */
  readonly columns: number;
  /** What an empty answer means, in this table's words; without it an empty answer shows no row. */
  readonly empty?: ReactNode;
  readonly children: (rows: readonly Row[]) => ReactNode;
}) {
  if (awaitingFirstAnswer) return <NoteRow columns={columns}>Loading…</NoteRow>;
  if (rows === null) return null;
  if (rows.length === 0 && empty !== undefined) return <NoteRow columns={columns}>{empty}</NoteRow>;
  return children(rows);
}

function NoteRow({ columns, children }: { readonly columns: number; readonly children: ReactNode }) {
  return (
    <tr>
      <td colSpan={columns} className="empty">
        {children}
      </td>
    </tr>
  );
}
