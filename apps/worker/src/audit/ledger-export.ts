import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { z } from 'zod';
import type { ChainPoint } from './audit-chain';

/** Largest export `audit verify --against` reads: a week of checkpoints is about 250 KiB. */
export const MAX_LEDGER_EXPORT_BYTES = 8 * 1024 * 1024;

const head = z.strictObject({
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  head: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hash in lower-case hex (64 characters)'),
  receivedAt: z.iso.datetime({ offset: true }),
});

const ledgerExport = z.strictObject({
  workerId: z.uuid(),
  latest: head.nullable(),
  checkpoints: z.array(head),
});

/** What the control plane says it received of a worker's egress audit log (GET /api/v1/workers/{id}/ledger-heads). */
export interface LedgerExport {
  readonly workerId: string;
  /** Every head it names, latest included, in ascending seq, each once. */
  readonly heads: readonly ChainPoint[];
}

/** The export file is missing, too large, not JSON, or not the shape the control plane answers. */
export class LedgerExportInvalidError extends Error {
  override readonly name = 'LedgerExportInvalidError';
}

/**
 * Reads an export saved from the control plane. Two entries for the same line with different
 * hashes are refused: the control plane keeps one head per line, so such a file was altered.
 */
export function readLedgerExport(path: string): LedgerExport {
  const parsed = ledgerExport.safeParse(parseJson(path, readBounded(path)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LedgerExportInvalidError(`${path}: ${issue.path.join('.') || 'the document'}: ${issue.message}`);
  }
  const bySeq = new Map<number, string>();
  for (const entry of [...parsed.data.checkpoints, ...(parsed.data.latest === null ? [] : [parsed.data.latest])]) {
    const known = bySeq.get(entry.seq);
    if (known !== undefined && known !== entry.head) throw new LedgerExportInvalidError(`${path}: seq ${entry.seq} is listed twice with different hashes`);
    bySeq.set(entry.seq, entry.head);
  }
  const heads = [...bySeq].sort(([a], [b]) => a - b).map(([seq, hash]) => ({ seq, hash }));
  return { workerId: parsed.data.workerId, heads };
}

function readBounded(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new LedgerExportInvalidError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_LEDGER_EXPORT_BYTES) throw new LedgerExportInvalidError(`${path}: ${size} bytes, more than the ${MAX_LEDGER_EXPORT_BYTES} an export can hold`);
    const buffer = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const bytes = readSync(fd, buffer, read, size - read, read);
      if (bytes === 0) break;
      read += bytes;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new LedgerExportInvalidError(`${path}: not valid JSON`);
  }
}
