import { basename } from 'node:path';
import { type AuditFileSystem, errnoCodeOf, nodeAuditFileSystem } from './audit-file-system';
import { type ChainPoint, GENESIS_POINT, MAX_AUDIT_LINE_BYTES, checkAuditLine } from './audit-chain';
import { scanLines } from './audit-line.scanner';
import { EgressAuditFiles } from './egress-audit.files';
import type { QuarantinedTail } from './egress-audit.log';

/** Result of checking one log text: how many lines, and the first one that broke the chain. */
export type AuditVerification = { readonly ok: true; readonly count: number } | { readonly ok: false; readonly count: number; readonly brokenLine: number };

/** Re-computes the chain of one complete log held in memory, from the genesis hash. `undefined` (no file) is an empty, valid log. */
export function verifyEgressAuditLog(text: string | undefined): AuditVerification {
  if (text === undefined) return { ok: true, count: 0 };
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let previous: ChainPoint = GENESIS_POINT;
  for (const [index, line] of lines.entries()) {
    const check = checkAuditLine(line, previous);
    if (!check.ok) return { ok: false, count: lines.length, brokenLine: index + 1 };
    previous = check.point;
  }
  return { ok: true, count: lines.length };
}

/** Where a chain break is: the file, the 1-based line in it, and why (never the line's content). */
export interface AuditBreak {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

/** The verdict on a whole log: every segment and the active file, in order, as one chain. */
export interface AuditTrailVerdict {
  readonly ok: boolean;
  /** Frames whose lines verified (up to the break, when there is one). */
  readonly frames: number;
  /** The files read, oldest first (segments, then the active file). */
  readonly files: readonly string[];
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  /**
   * Set when the oldest retained line is not seq 1: segments before it were removed by
   * retention, and the chain is verified from this seq, anchored on that line's prevHash.
   */
  readonly anchoredAtSeq: number | undefined;
  /** An unterminated tail at the end of the active file: an interrupted append, not part of the chain (the worker moves it aside at its next start). */
  readonly unterminatedTail: QuarantinedTail | undefined;
  /** Tails moved aside earlier, with their sizes. */
  readonly quarantined: readonly QuarantinedTail[];
  /** The first break of the chain, if any. */
  readonly broken: AuditBreak | undefined;
  /** How the log compares with heads the control plane says it received; undefined when none were given. */
  readonly reportedHeads: ReportedHeadsCheck | undefined;
}

/**
 * The log against heads it reported earlier (its seq and chain hash, from the control plane's
 * export). A head that names a line the log no longer has, past its end, means the log was cut
 * back after it was reported; one whose hash differs from the line's means the line, or one
 * before it, was rewritten. Either fails the verdict.
 */
export interface ReportedHeadsCheck {
  readonly reported: number;
  /** Heads whose line is in the log with that very hash. */
  readonly matching: number;
  /** Seqs of heads whose line has another hash: rewritten. */
  readonly rewritten: readonly number[];
  /** Seqs of heads past the log's last line: cut back. */
  readonly beyondEnd: readonly number[];
  /** Heads older than the oldest line kept (segments removed by retention): not checkable. */
  readonly beforeRetention: number;
  /** Heads after a break in the chain: not checked. */
  readonly afterBreak: number;
}

/**
 * Verifies the egress audit log whose active file is `activePath`: every closed segment,
 * oldest first, then the active file, as one chain, streaming (memory bounded by one line).
 * A missing log is an empty, valid one. Closed segments must end with a newline; only the
 * active file may end in an unterminated tail, which is reported and not counted. Safe to run
 * beside a running worker: it verifies a snapshot taken when it starts.
 */
export function verifyEgressAuditTrail(activePath: string, fileSystem: AuditFileSystem = nodeAuditFileSystem, reportedHeads?: readonly ChainPoint[]): AuditTrailVerdict {
  const expected = new Map((reportedHeads ?? []).map((head) => [head.seq, head.hash]));
  let matching = 0;
  const rewritten: number[] = [];
  const names = new EgressAuditFiles(activePath);
  const snapshot = openSnapshot(fileSystem, names);
  const quarantined = snapshot.quarantined.map((file) => ({ file, bytes: sizeOf(fileSystem, file) }));
  const files: string[] = [];
  let previous: ChainPoint | undefined;
  let firstSeq: number | undefined;
  let anchoredAtSeq: number | undefined;
  let frames = 0;
  let unterminatedTail: QuarantinedTail | undefined;
  let broken: AuditBreak | undefined;

  const sources: { file: string; fd: number | undefined }[] = [...snapshot.segments.map((file) => ({ file, fd: undefined })), ...(snapshot.activeFd === undefined ? [] : [{ file: activePath, fd: snapshot.activeFd }])];
  try {
    for (const source of sources) {
      const isActive = source.fd !== undefined;
      const fd = source.fd ?? openIfPresent(fileSystem, source.file);
      // Retention of a running worker may delete the oldest segments while this runs.
      if (fd === undefined && previous === undefined) continue;
      if (fd === undefined) {
        broken = { file: source.file, line: 1, reason: 'the segment disappeared while being verified' };
        break;
      }
      files.push(source.file);
      try {
        const scan = scanLines(fileSystem, fd, (line, lineNumber) => {
          const check = checkAuditLine(line, previous);
          if (!check.ok) {
            const across = check.kind === 'link' && previous !== undefined && lineNumber === 1 ? `, across from ${basename(files[files.length - 2] ?? '')}` : '';
            broken = { file: source.file, line: lineNumber, reason: `${check.reason}${across}` };
            return false;
          }
          if (previous === undefined) {
            firstSeq = check.point.seq;
            if (check.point.seq !== 1) anchoredAtSeq = check.point.seq;
          }
          previous = check.point;
          frames += 1;
          const reportedHash = expected.get(check.point.seq);
          if (reportedHash === check.point.hash) matching += 1;
          else if (reportedHash !== undefined) rewritten.push(check.point.seq);
          return true;
        });
        if (!scan.complete) {
          broken ??= { file: source.file, line: scan.stoppedAtLine, reason: `longer than any audit line (${MAX_AUDIT_LINE_BYTES} bytes)` };
        } else if (scan.tail.kind !== 'none') {
          const line = scan.lines + 1;
          if (!isActive) broken = { file: source.file, line, reason: 'a closed segment ending without a newline' };
          else if (scan.tail.kind === 'oversized') broken = { file: source.file, line, reason: `unterminated and longer than any audit line (${MAX_AUDIT_LINE_BYTES} bytes)` };
          else unterminatedTail = { file: source.file, bytes: scan.tail.bytes.length };
        }
      } finally {
        if (!isActive) fileSystem.closeSync(fd);
      }
      if (broken !== undefined) break;
    }
  } finally {
    if (snapshot.activeFd !== undefined) fileSystem.closeSync(snapshot.activeFd);
  }
  const lastSeq = (previous as ChainPoint | undefined)?.seq;
  const heads = reportedHeads === undefined ? undefined : compareHeads(reportedHeads, { firstSeq, lastSeq, broken: broken !== undefined, matching, rewritten });
  const headsHold = heads === undefined || (heads.rewritten.length === 0 && heads.beyondEnd.length === 0);
  return { ok: broken === undefined && headsHold, frames, files, firstSeq, lastSeq, anchoredAtSeq, unterminatedTail, quarantined, broken, reportedHeads: heads };
}

/** Sorts the reported heads the scan did not meet: before the oldest line kept, after a break, or past the end. */
function compareHeads(
  reported: readonly ChainPoint[],
  scan: { readonly firstSeq: number | undefined; readonly lastSeq: number | undefined; readonly broken: boolean; readonly matching: number; readonly rewritten: readonly number[] },
): ReportedHeadsCheck {
  let beforeRetention = 0;
  let afterBreak = 0;
  const beyondEnd: number[] = [];
  for (const { seq } of reported) {
    if (scan.firstSeq !== undefined && seq < scan.firstSeq) beforeRetention += 1;
    else if (scan.lastSeq !== undefined && seq <= scan.lastSeq) continue;
    else if (scan.broken) afterBreak += 1;
    else beyondEnd.push(seq);
  }
  return { reported: reported.length, matching: scan.matching, rewritten: scan.rewritten, beyondEnd, beforeRetention, afterBreak };
}

/**
 * Lists the segments and opens the active file so that the two agree: a rotation between
 * listing and opening would otherwise make the active file skip a segment. The listing is
 * taken again after the open and the pair retried until both listings match.
 */
function openSnapshot(fileSystem: AuditFileSystem, names: EgressAuditFiles): { segments: string[]; activeFd: number | undefined; quarantined: string[] } {
  for (let attempt = 0; ; attempt += 1) {
    const before = listOrEmpty(fileSystem, names);
    const activeFd = openIfPresent(fileSystem, names.activePath);
    const after = listOrEmpty(fileSystem, names);
    if (after.segments.join('\n') === before.segments.join('\n') || attempt >= 5) return { segments: after.segments, activeFd, quarantined: after.quarantined };
    if (activeFd !== undefined) fileSystem.closeSync(activeFd);
  }
}

function listOrEmpty(fileSystem: AuditFileSystem, names: EgressAuditFiles): { segments: string[]; quarantined: string[] } {
  try {
    return { segments: names.listSegments(fileSystem).map((segment) => segment.path), quarantined: names.listQuarantined(fileSystem) };
  } catch (error) {
    if (errnoCodeOf(error) === 'ENOENT') return { segments: [], quarantined: [] };
    throw error;
  }
}

function openIfPresent(fileSystem: AuditFileSystem, path: string): number | undefined {
  try {
    return fileSystem.openSync(path, 'r');
  } catch (error) {
    if (errnoCodeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function sizeOf(fileSystem: AuditFileSystem, path: string): number {
  const fd = fileSystem.openSync(path, 'r');
  try {
    return fileSystem.fstatSync(fd).size;
  } finally {
    fileSystem.closeSync(fd);
  }
}
