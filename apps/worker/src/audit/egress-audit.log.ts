import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { frameToJson } from './frame-json';

/** The previous-hash value of the first line. */
export const GENESIS_HASH = '0'.repeat(64);
const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;
const TAIL_BYTES = 64 * 1024;

/** Result of checking an audit log: how many lines, and the first one that broke the chain. */
export type AuditVerification = { readonly ok: true; readonly count: number } | { readonly ok: false; readonly count: number; readonly brokenLine: number };

/**
 * The hash-chained, append-only record of every frame the worker sent upstream. Each line is
 * `{"seq","time","type","frame","prevHash","hash"}` where `hash` is SHA-256 over the
 * previous hash followed by the line's text up to (not including) `,"hash"`. Each append is
 * fsync'd before the frame is written to the stream, so nothing leaves unrecorded.
 */
export class EgressAuditLog {
  private constructor(
    private readonly fd: number,
    private seq: number,
    private prevHash: string,
    private readonly now: () => number,
  ) {}

  /** Opens (or creates) the log and continues its chain from the last line. */
  static open(path: string, now: () => number = Date.now): EgressAuditLog {
    const fd = openSync(path, 'a+', 0o600);
    const last = lastLine(fd);
    if (last === undefined) return new EgressAuditLog(fd, 0, GENESIS_HASH, now);
    const parsed = JSON.parse(last) as { seq: number; hash: string };
    return new EgressAuditLog(fd, parsed.seq, parsed.hash, now);
  }

  /** Appends one frame and returns its sequence number. Throws if the disk refuses. */
  append(type: string, frame: unknown): number {
    const seq = this.seq + 1;
    const body = `{"seq":${seq},"time":${JSON.stringify(new Date(this.now()).toISOString())},"type":${JSON.stringify(type)},"frame":${frameToJson(frame)},"prevHash":"${this.prevHash}"`;
    const hash = chainHash(this.prevHash, body);
    writeSync(this.fd, `${body},"hash":"${hash}"}\n`);
    fsyncSync(this.fd);
    this.seq = seq;
    this.prevHash = hash;
    return seq;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function chainHash(prevHash: string, body: string): string {
  return createHash('sha256').update(prevHash, 'utf8').update(body, 'utf8').digest('hex');
}

function lastLine(fd: number): string | undefined {
  const size = fstatSync(fd).size;
  if (size === 0) return undefined;
  const length = Math.min(size, TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  readSync(fd, buffer, 0, length, size - length);
  const lines = buffer.toString('utf8').split('\n').filter((line) => line.length > 0);
  return lines[lines.length - 1];
}

/** Re-computes the chain of an audit log file line by line. A missing file is an empty, valid log. */
export function verifyEgressAuditLog(text: string | undefined): AuditVerification {
  if (text === undefined) return { ok: true, count: 0 };
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prevHash = GENESIS_HASH;
  for (const [index, line] of lines.entries()) {
    const broken = { ok: false as const, count: lines.length, brokenLine: index + 1 };
    const match = HASH_SUFFIX.exec(line);
    if (!match) return broken;
    const body = line.slice(0, match.index);
    let parsed: { seq?: unknown; prevHash?: unknown };
    try {
      parsed = JSON.parse(`${body}}`) as typeof parsed;
    } catch {
      return broken;
    }
    if (parsed.seq !== index + 1 || parsed.prevHash !== prevHash || chainHash(prevHash, body) !== match[1]) return broken;
    prevHash = match[1] as string;
  }
  return { ok: true, count: lines.length };
}

