import type { JobListPosition } from '@airlock/data-access';

/** Longer than any cursor this module writes (about 110 characters); anything longer is refused unread. */
export const MAX_CURSOR_CHARS = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The opaque `before` cursor of GET /jobs: where the previous page ended, as base64url JSON.
 * Clients pass it back unchanged; its content is no contract and may change.
 */
export function encodeJobListCursor(position: JobListPosition): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt.toISOString(), id: position.id }), 'utf8').toString('base64url');
}

/** The position a cursor names, or null when it is not one this module wrote. */
export function decodeJobListCursor(cursor: string): JobListPosition | null {
  if (cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof decoded !== 'object' || decoded === null) return null;
  const { t, id } = decoded as { t?: unknown; id?: unknown };
  if (typeof t !== 'string' || typeof id !== 'string' || !UUID.test(id)) return null;
  const createdAt = new Date(t);
  // Only the exact form toISOString writes: no other text decodes to a position.
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== t) return null;
  return { createdAt, id: id.toLowerCase() };
}
