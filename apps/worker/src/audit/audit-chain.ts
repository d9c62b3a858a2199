import { createHash } from 'node:crypto';

/** The previous-hash value of the first line of a log (seq 1). */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Longest audit line the worker writes or accepts. An upstream frame is at most 16 KiB on
 * the wire; as JSON with bytes in hex it stays far below this. A longer line is refused when
 * appending, and reported as corruption when reading, so reading stays bounded.
 */
export const MAX_AUDIT_LINE_BYTES = 256 * 1024;

const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;
const HEX_HASH = /^[0-9a-f]{64}$/;

/** A line's place in the chain: its sequence number and its hash. */
export interface ChainPoint {
  readonly seq: number;
  readonly hash: string;
}

/** The chain before its first line. */
export const GENESIS_POINT: ChainPoint = { seq: 0, hash: GENESIS_HASH };

/** SHA-256 over the previous hash followed by the line's text up to (not including) `,"hash"`. */
export function chainHash(prevHash: string, body: string): string {
  return createHash('sha256').update(prevHash, 'utf8').update(body, 'utf8').digest('hex');
}

/** Builds the line (with its newline) that records `frameJson` after `previous`. */
export function auditLineOf(previous: ChainPoint, timeIso: string, type: string, frameJson: string): { readonly text: string; readonly point: ChainPoint } {
  const seq = previous.seq + 1;
  const body = `{"seq":${seq},"time":${JSON.stringify(timeIso)},"type":${JSON.stringify(type)},"frame":${frameJson},"prevHash":"${previous.hash}"`;
  const hash = chainHash(previous.hash, body);
  return { text: `${body},"hash":"${hash}"}\n`, point: { seq, hash } };
}

/**
 * Whether a line continues the chain, and if not, why: `link` when the line is sound but does
 * not follow the one before it (a line or file missing in between), `line` when the line
 * itself is damaged. The reason is in words for an operator, never the line's content.
 */
export type AuditLineCheck =
  | { readonly ok: true; readonly point: ChainPoint; readonly prevHash: string }
  | { readonly ok: false; readonly kind: 'link' | 'line'; readonly reason: string };

/**
 * Checks one line (without its newline) against the line before it. With `previous`
 * undefined the line is the first one available: seq 1 must chain from the genesis hash,
 * and a later seq is taken as the anchor (earlier lines were removed by retention).
 */
export function checkAuditLine(line: string, previous: ChainPoint | undefined): AuditLineCheck {
  const parsed = parseAuditLine(line);
  if (!parsed.ok) return { ok: false, kind: 'line', reason: parsed.reason };
  const { seq, prevHash, hash, body } = parsed;
  if (previous !== undefined && seq !== previous.seq + 1) return { ok: false, kind: 'link', reason: `seq ${seq} where ${previous.seq + 1} was expected` };
  const expectedPrevHash = previous?.hash ?? (seq === 1 ? GENESIS_HASH : prevHash);
  if (prevHash !== expectedPrevHash) {
    return { ok: false, kind: 'link', reason: previous === undefined ? 'the first line (seq 1) does not chain from the genesis hash' : "prevHash is not the previous line's hash" };
  }
  if (chainHash(prevHash, body) !== hash) return { ok: false, kind: 'line', reason: "hash does not match the line's content" };
  return { ok: true, point: { seq, hash }, prevHash };
}

/**
 * Reads a line's seq and hashes without checking it against a neighbour; used where only one
 * end of a file is read (its predecessor is elsewhere or gone).
 */
export function parseAuditLine(
  line: string,
): { readonly ok: true; readonly seq: number; readonly prevHash: string; readonly hash: string; readonly body: string } | { readonly ok: false; readonly reason: string } {
  const match = HASH_SUFFIX.exec(line);
  if (!match) return { ok: false, reason: 'not an audit line (no "hash" at its end)' };
  const body = line.slice(0, match.index);
  let fields: { seq?: unknown; prevHash?: unknown };
  try {
    fields = JSON.parse(`${body}}`) as typeof fields;
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  const { seq, prevHash } = fields ?? {};
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return { ok: false, reason: 'no positive integer "seq"' };
  if (typeof prevHash !== 'string' || !HEX_HASH.test(prevHash)) return { ok: false, reason: 'no 64-hex-digit "prevHash"' };
  return { ok: true, seq, prevHash, hash: match[1] as string, body };
}
