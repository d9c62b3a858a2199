import { JsonLogger, type Logger } from '../logging/json-logger';
import { type AuditFileSystem, errnoCodeOf, fsyncDirectory, isOutOfSpace, nodeAuditFileSystem } from './audit-file-system';
import { type ChainPoint, GENESIS_POINT, MAX_AUDIT_LINE_BYTES, auditLineOf, chainHash, checkAuditLine, parseAuditLine } from './audit-chain';
import { readFirstLine, readLastLine, scanLines } from './audit-line.scanner';
import { EgressAuditAppendFailedError } from './egress-audit-append-failed.error';
import { EgressAuditLogCorruptError } from './egress-audit-log-corrupt.error';
import { type AuditSegment, EgressAuditFiles } from './egress-audit.files';
import { frameToJson } from './frame-json';

/** Rotation defaults; the worker config documents the same values (`audit.*`). */
export const DEFAULT_AUDIT_ROTATION = {
  /** 64 MiB: about 100 000 frames per segment. */
  maxSegmentBytes: 64 * 1024 * 1024,
  /** Closed segments kept besides the active file, so at most about 1.1 GiB on disk. */
  maxSegments: 16,
} as const;

/** How an `EgressAuditLog` is opened. Every field is optional. */
export interface EgressAuditLogOptions {
  /**
   * Current Unix milliseconds, for each line's `time`.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * The active file is closed and renamed to the next numbered segment before an append
   * would take it past this many bytes; the new active file continues the chain.
   * @default 67108864 (64 MiB)
   */
  readonly maxSegmentBytes?: number;
  /**
   * Closed segments kept besides the active file; the oldest beyond this are deleted, each
   * deletion logged with its seq range and final hash.
   * @default 16
   */
  readonly maxSegments?: number;
  /**
   * Where rotation, retention and quarantine are reported (local only; names, sizes, seqs
   * and hashes, never a line's content).
   * @default a logger that drops everything
   */
  readonly logger?: Logger;
  /** The file calls made; a seam for tests. @default the real file system */
  readonly fileSystem?: AuditFileSystem;
}

/** An unterminated tail found at open and moved to a file of its own. */
export interface QuarantinedTail {
  readonly file: string;
  readonly bytes: number;
}

interface ActiveFileState {
  readonly head: ChainPoint;
  readonly completeBytes: number;
  readonly tornTail: Buffer | undefined;
}

/** Why the lines of a batch were discarded before its `commit`: the fsync that failed. */
interface UncommittedLoss {
  readonly code: string;
  readonly cause: unknown;
}

/**
 * The hash-chained, append-only record of every frame the worker sent upstream. Each line is
 * `{"seq","time","type","frame","prevHash","hash"}` where `hash` is SHA-256 over the
 * previous hash followed by the line's text up to (not including) `,"hash"`. A line is
 * fsync'd before its frame is written to the stream, so nothing leaves unrecorded.
 *
 * Lines are group-committed: `write` adds a line without fsync, `commit` fsyncs every line
 * written since the last commit at once (the outbound gate commits once per event-loop tick,
 * then sends that tick's frames). `append` is a batch of one: write, then commit.
 *
 * A write is all or nothing: if the disk refuses part of a line (ENOSPC, EIO), the file is
 * cut back to the end of the last whole line before `write` throws, so the chain stays
 * intact and the next write, once the disk allows it, continues it. A commit is all or
 * nothing too: if the fsync fails, the lines of the batch may not be on disk, so the file is
 * cut back to what the last successful fsync covered and the chain continues from there.
 *
 * A tail that a crash or power loss left unterminated is not part of the chain (its frame
 * was never sent); `open` moves it to a file of its own beside the log instead of failing.
 * Any other damage is an `EgressAuditLogCorruptError`, since hiding it could hide tampering.
 *
 * The log rotates by size (see `EgressAuditLogOptions`) into numbered segments that form one
 * chain: a new active file's first line has the previous segment's last hash as `prevHash`.
 */
export class EgressAuditLog {
  private fd: number | undefined;
  /** Bytes of the active file that hold complete lines (fsync'd or not); anything after them is not part of the chain. */
  private writtenBytes: number;
  /** Bytes of the active file known to be on disk: a failed fsync cuts the file back to this. */
  private syncedBytes: number;
  /** The chain's end at `syncedBytes`, where it continues after a failed fsync. */
  private syncedHead: ChainPoint;
  /** A failed cut could not remove bytes past `writtenBytes`: the next write cuts them off first. */
  private strayBytesLeft = false;
  /**
   * Lines written since the last `commit` were discarded by a failed fsync outside it (a
   * rotation's, or `close`'s): that commit must fail, though nothing may be left to fsync.
   */
  private uncommittedLoss: UncommittedLoss | undefined;
  /** The latest write failed: a commit of earlier lines does not make the log healthy again. */
  private lastWriteFailed = false;
  private tornTail: Buffer | undefined;
  private tornTailSavedAs: string | undefined;
  private quarantined: QuarantinedTail | undefined;
  private problemCode: string | undefined;
  private rotationFailing = false;
  private closed = false;

  private constructor(
    private readonly files: EgressAuditFiles,
    private readonly fileSystem: AuditFileSystem,
    private readonly settings: { readonly now: () => number; readonly maxSegmentBytes: number; readonly maxSegments: number; readonly logger: Logger },
    fd: number | undefined,
    private head: ChainPoint,
    active: ActiveFileState | undefined,
  ) {
    this.fd = fd;
    // What the active file held at open was written by an earlier run: treated as durable.
    this.writtenBytes = active?.completeBytes ?? 0;
    this.syncedBytes = this.writtenBytes;
    this.syncedHead = head;
    this.tornTail = active?.tornTail;
  }

  /**
   * Opens (or creates) the log at `path` and continues its chain: from the last line of the
   * active file, or of the newest segment when the active file is empty or missing. The
   * whole active file is verified (streamed, memory bounded); of the segments only the
   * newest one's last line is read. An unterminated tail is moved aside (see
   * `quarantinedTail`). A full disk does not stop `open`: the log then starts unhealthy
   * and finishes its work on the first append that finds space.
   *
   * @throws EgressAuditLogCorruptError when the log is damaged in a way an interrupted
   *   append cannot explain.
   * @throws the file system's error when the directory or the log cannot be read.
   */
  static open(path: string, options: EgressAuditLogOptions = {}): EgressAuditLog {
    const settings = {
      now: options.now ?? Date.now,
      maxSegmentBytes: options.maxSegmentBytes ?? DEFAULT_AUDIT_ROTATION.maxSegmentBytes,
      maxSegments: options.maxSegments ?? DEFAULT_AUDIT_ROTATION.maxSegments,
      logger: options.logger ?? new JsonLogger(() => undefined),
    };
    if (!Number.isSafeInteger(settings.maxSegmentBytes) || settings.maxSegmentBytes < 1) throw new RangeError('maxSegmentBytes: expected a positive integer');
    if (!Number.isSafeInteger(settings.maxSegments) || settings.maxSegments < 1) throw new RangeError('maxSegments: expected a positive integer');
    const fileSystem = options.fileSystem ?? nodeAuditFileSystem;
    const files = new EgressAuditFiles(path);
    const previous = lastPointOfNewestSegment(fileSystem, files);

    let fd: number | undefined;
    let creationProblem: string | undefined;
    try {
      fd = fileSystem.openSync(path, 'a+', 0o600);
    } catch (error) {
      // Only creating the file needs space; an existing log always opens.
      if (!isOutOfSpace(error)) throw error;
      creationProblem = errnoCodeOf(error);
    }
    let active: ActiveFileState | undefined;
    if (fd !== undefined) {
      try {
        active = readActiveFile(fileSystem, fd, path, previous);
      } catch (error) {
        fileSystem.closeSync(fd);
        throw error;
      }
    }
    const log = new EgressAuditLog(files, fileSystem, settings, fd, active?.head ?? previous ?? GENESIS_POINT, active);
    if (creationProblem !== undefined) {
      log.problemCode = creationProblem;
      settings.logger.error('egress-audit-open-deferred', { code: creationProblem });
    }
    try {
      log.moveTornTailAside();
    } catch (error) {
      if (!isOutOfSpace(error)) {
        log.close();
        throw error;
      }
      log.problemCode = errnoCodeOf(error);
      settings.logger.error('egress-audit-tail-quarantine-deferred', { code: log.problemCode });
    }
    log.applyRetention();
    return log;
  }

  /**
   * False while the log cannot record: after a write or a commit failed, or when open could
   * not finish for lack of space. True again once a commit makes a line durable that was
   * written after the failure.
   */
  get healthy(): boolean {
    return this.problemCode === undefined;
  }

  /** The errno code (e.g. `ENOSPC`) that made the log unhealthy, while it is. */
  get problem(): string | undefined {
    return this.problemCode;
  }

  /** The seq of the last line written (0 for an empty log); it may await its commit. */
  get lastSeq(): number {
    return this.head.seq;
  }

  /**
   * The chain's end as far as it is on disk: the seq and hash of the last committed line
   * (seq 0 and the genesis hash for an empty log). What a heartbeat reports upstream: a
   * line that a failed fsync could still take back is never named.
   */
  get committedHead(): ChainPoint {
    return this.syncedHead;
  }

  /** The unterminated tail this log moved aside since it was opened, if any. */
  get quarantinedTail(): QuarantinedTail | undefined {
    return this.quarantined;
  }

  /**
   * Appends one frame and returns its sequence number, after the line is fsync'd: a write
   * and a commit. Any line written before it and not yet committed is committed with it.
   *
   * @throws EgressAuditAppendFailedError when the line could not be recorded; the file is
   *   then as the last commit left it and the frame must not be sent.
   */
  append(type: string, frame: unknown): number {
    const seq = this.write(type, frame);
    this.commit();
    return seq;
  }

  /**
   * Writes one frame's line, without fsync, and returns its sequence number. Its frame may
   * be sent only after a `commit` that covers it returned.
   *
   * @throws EgressAuditAppendFailedError when the line could not be written; the file then
   *   ends with the last whole line, as before the call, and the lines written earlier
   *   still await their commit.
   */
  write(type: string, frame: unknown): number {
    if (this.closed) throw new EgressAuditAppendFailedError('CLOSED');
    const line = auditLineOf(this.head, new Date(this.settings.now()).toISOString(), type, frameToJson(frame));
    const bytes = Buffer.from(line.text, 'utf8');
    // Readers refuse longer lines as corruption, so writing one would break the log.
    if (bytes.length > MAX_AUDIT_LINE_BYTES + 1) throw new EgressAuditAppendFailedError('LINE_TOO_LONG');
    try {
      this.prepareActiveFile(bytes.length);
      this.writeLine(bytes);
    } catch (error) {
      this.lastWriteFailed = true;
      this.problemCode = errnoCodeOf(error);
      throw new EgressAuditAppendFailedError(this.problemCode, { cause: error });
    }
    this.head = line.point;
    this.writtenBytes += bytes.length;
    this.lastWriteFailed = false;
    return line.point.seq;
  }

  /**
   * Makes every line written since the last commit durable with one fsync (none when there
   * is nothing to commit). Their frames may be sent once it returns.
   *
   * @throws EgressAuditAppendFailedError when the fsync failed, or when lines of this batch
   *   were already lost to a failed fsync before (a rotation's, or `close`'s). None of its frames
   *   may be sent then: the file is cut back to what the last successful fsync covered, and
   *   the next write continues the chain from there.
   */
  commit(): void {
    const syncing = this.writtenBytes > this.syncedBytes;
    // A batch that lost lines fails as a whole: what it wrote after the loss goes too.
    if (this.uncommittedLoss === undefined) this.syncWritten();
    else this.discardUnsynced();
    const loss = this.uncommittedLoss;
    if (loss === undefined) {
      if (syncing && !this.lastWriteFailed) this.problemCode = undefined;
      return;
    }
    this.uncommittedLoss = undefined;
    this.problemCode = loss.code;
    throw new EgressAuditAppendFailedError(loss.code, { cause: loss.cause });
  }

  /**
   * Commits what was written since the last commit, then closes the active file; writes fail
   * afterwards. A failed commit here is kept for the next `commit` to report, as the frames
   * waiting for it must not be sent.
   */
  close(): void {
    if (this.fd !== undefined) this.syncWritten();
    this.closed = true;
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    this.fileSystem.closeSync(fd);
  }

  /** Finishes whatever an earlier failure left undone, then rotates if this line would overfill the segment. */
  private prepareActiveFile(lineBytes: number): void {
    if (this.fd === undefined) this.openActiveFile();
    this.moveTornTailAside();
    if (this.strayBytesLeft) {
      this.fileSystem.ftruncateSync(this.activeFd(), this.writtenBytes);
      this.strayBytesLeft = false;
    }
    if (this.writtenBytes > 0 && this.writtenBytes + lineBytes > this.settings.maxSegmentBytes) this.rotate();
  }

  private writeLine(bytes: Buffer): void {
    const fd = this.activeFd();
    try {
      for (let offset = 0; offset < bytes.length; ) {
        const written = this.fileSystem.writeSync(fd, bytes, offset, bytes.length - offset);
        if (written <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
        offset += written;
      }
    } catch (error) {
      // No fsync: the next commit makes the cut durable with the lines after it, and a crash
      // before that leaves at worst an unterminated tail, which open moves aside.
      try {
        this.fileSystem.ftruncateSync(fd, this.writtenBytes);
      } catch {
        // Nothing may be written after a partial line: the next write cuts it off first.
        this.strayBytesLeft = true;
      }
      throw error;
    }
  }

  /**
   * fsyncs the lines written since the last fsync. When that fails they may not be on disk,
   * so they are discarded, and the loss is returned and kept for `commit` to report.
   */
  private syncWritten(): UncommittedLoss | undefined {
    if (this.writtenBytes === this.syncedBytes) return undefined;
    try {
      this.fileSystem.fsyncSync(this.activeFd());
    } catch (error) {
      const loss = { code: errnoCodeOf(error), cause: error };
      this.uncommittedLoss ??= loss;
      this.discardUnsynced();
      return loss;
    }
    this.syncedBytes = this.writtenBytes;
    this.syncedHead = this.head;
    return undefined;
  }

  /** Cuts the lines not yet fsync'd off the file, and takes the chain back to the last durable line. */
  private discardUnsynced(): void {
    if (this.writtenBytes === this.syncedBytes) return;
    this.writtenBytes = this.syncedBytes;
    this.head = this.syncedHead;
    try {
      this.truncateDurably(this.activeFd(), this.syncedBytes);
    } catch {
      this.strayBytesLeft = true;
    }
  }

  private truncateDurably(fd: number, length: number): void {
    this.fileSystem.ftruncateSync(fd, length);
    this.fileSystem.fsyncSync(fd);
  }

  private activeFd(): number {
    if (this.fd === undefined) throw Object.assign(new Error('egress audit log has no open active file'), { code: 'EBADF' });
    return this.fd;
  }

  private openActiveFile(): void {
    const fd = this.fileSystem.openSync(this.files.activePath, 'a+', 0o600);
    try {
      this.writtenBytes = this.fileSystem.fstatSync(fd).size;
      this.syncedBytes = this.writtenBytes;
      // Lines fsync'd into a file whose directory entry is lost would be lost with it.
      fsyncDirectory(this.fileSystem, this.files.directory);
    } catch (error) {
      this.fileSystem.closeSync(fd);
      throw error;
    }
    this.fd = fd;
  }

  /**
   * Copies the unterminated tail found at open to its own file (fsync'd, directory too),
   * then cuts it off the log. In that order, so a crash in between loses nothing; at worst
   * the next open copies it a second time.
   */
  private moveTornTailAside(): void {
    const tail = this.tornTail;
    if (tail === undefined) return;
    const fd = this.activeFd();
    if (this.tornTailSavedAs === undefined) this.tornTailSavedAs = this.writeQuarantineFile(tail);
    this.truncateDurably(fd, this.writtenBytes);
    this.tornTail = undefined;
    this.quarantined = { file: this.tornTailSavedAs, bytes: tail.length };
    this.settings.logger.warn('egress-audit-tail-quarantined', { file: this.tornTailSavedAs, bytes: tail.length, afterSeq: this.head.seq });
  }

  private writeQuarantineFile(tail: Buffer): string {
    const nowMs = this.settings.now();
    for (let attempt = 0; ; attempt += 1) {
      const target = this.files.quarantinePath(this.head.seq + 1, nowMs, attempt);
      let fd: number;
      try {
        fd = this.fileSystem.openSync(target, 'wx', 0o600);
      } catch (error) {
        if (errnoCodeOf(error) === 'EEXIST' && attempt < 100) continue;
        throw error;
      }
      let open = true;
      try {
        for (let offset = 0; offset < tail.length; ) {
          const written = this.fileSystem.writeSync(fd, tail, offset, tail.length - offset);
          if (written <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
          offset += written;
        }
        this.fileSystem.fsyncSync(fd);
        open = false;
        this.fileSystem.closeSync(fd);
        fsyncDirectory(this.fileSystem, this.files.directory);
      } catch (error) {
        if (open) this.fileSystem.closeSync(fd);
        // A partial copy would pass for the whole tail; the next attempt starts afresh.
        try {
          this.fileSystem.unlinkSync(target);
        } catch {
          // Left behind, it is still named as a torn tail, and `audit verify` lists it.
        }
        throw error;
      }
      return target;
    }
  }

  /**
   * Closes the active file and renames it to the next segment number; the next line goes to
   * a new active file and chains on as if nothing happened (the head is kept in memory).
   * Lines still awaiting their commit are fsync'd first: a closed segment is never torn.
   */
  private rotate(): void {
    const loss = this.syncWritten();
    if (loss !== undefined) throw loss.cause;
    const fd = this.activeFd();
    const newest = this.files.listSegments(this.fileSystem).at(-1);
    const target = this.files.segmentPath((newest?.number ?? 0) + 1);
    this.fd = undefined;
    this.fileSystem.closeSync(fd);
    try {
      this.fileSystem.renameSync(this.files.activePath, target);
    } catch (error) {
      // The line is still recorded, in an oversized active file; rotation is tried again next append.
      if (!this.rotationFailing) this.settings.logger.error('egress-audit-rotate-failed', { code: errnoCodeOf(error) });
      this.rotationFailing = true;
      this.openActiveFile();
      return;
    }
    this.rotationFailing = false;
    this.settings.logger.info('egress-audit-rotated', { segment: target, lastSeq: this.head.seq });
    this.applyRetention();
    // Creating the new active file also fsyncs the directory, which makes the rename durable.
    this.openActiveFile();
  }

  /** Deletes the oldest segments beyond `maxSegments`. Never throws: a failure is logged and retried at the next rotation. */
  private applyRetention(): void {
    let segments: AuditSegment[];
    try {
      segments = this.files.listSegments(this.fileSystem);
    } catch (error) {
      this.settings.logger.error('egress-audit-retention-failed', { code: errnoCodeOf(error) });
      return;
    }
    for (const segment of segments.slice(0, Math.max(0, segments.length - this.settings.maxSegments))) {
      const summary = summarizeSegment(this.fileSystem, segment.path);
      try {
        this.fileSystem.unlinkSync(segment.path);
      } catch (error) {
        this.settings.logger.error('egress-audit-retention-failed', { segment: segment.path, code: errnoCodeOf(error) });
        return;
      }
      this.settings.logger.info('egress-audit-segment-removed', { segment: segment.path, ...summary });
    }
  }
}

/** Verifies the active file from its first line; returns where the chain stands and any unterminated tail. */
function readActiveFile(fileSystem: AuditFileSystem, fd: number, path: string, previous: ChainPoint | undefined): ActiveFileState {
  let head = previous;
  let failure: { lineNumber: number; reason: string } | undefined;
  const scan = scanLines(fileSystem, fd, (line, lineNumber) => {
    const check = checkAuditLine(line, head);
    if (!check.ok) {
      failure = { lineNumber, reason: check.kind === 'link' && previous !== undefined && lineNumber === 1 ? `${check.reason}; it must continue the newest segment` : check.reason };
      return false;
    }
    head = check.point;
    return true;
  });
  if (!scan.complete) {
    const reason = scan.tooLong ? `longer than any audit line (${MAX_AUDIT_LINE_BYTES} bytes)` : (failure?.reason ?? 'unreadable');
    throw new EgressAuditLogCorruptError(path, `line ${scan.stoppedAtLine}`, reason);
  }
  if (scan.tail.kind === 'oversized') {
    throw new EgressAuditLogCorruptError(path, `line ${scan.lines + 1}`, `unterminated and longer than any audit line (${MAX_AUDIT_LINE_BYTES} bytes), so not an interrupted append`);
  }
  return { head: head ?? GENESIS_POINT, completeBytes: scan.endOfLastLine, tornTail: scan.tail.kind === 'unterminated' ? scan.tail.bytes : undefined };
}

/** The chain's end in the newest closed segment, which the active file continues. */
function lastPointOfNewestSegment(fileSystem: AuditFileSystem, files: EgressAuditFiles): ChainPoint | undefined {
  const newest = files.listSegments(fileSystem).at(-1);
  if (newest === undefined) return undefined;
  const fd = fileSystem.openSync(newest.path, 'r');
  try {
    const last = readLastLine(fileSystem, fd);
    // A segment is only ever a complete, fsync'd active file renamed: it cannot be torn.
    if ('problem' in last) throw new EgressAuditLogCorruptError(newest.path, 'its last line', `a closed segment that is ${last.problem === 'empty' ? 'empty' : last.problem === 'too-long' ? 'ending in an over-long line' : 'not ending in a newline'}`);
    const parsed = parseAuditLine(last.line);
    if (!parsed.ok) throw new EgressAuditLogCorruptError(newest.path, 'its last line', parsed.reason);
    if (chainHash(parsed.prevHash, parsed.body) !== parsed.hash) throw new EgressAuditLogCorruptError(newest.path, 'its last line', "hash does not match the line's content");
    return { seq: parsed.seq, hash: parsed.hash };
  } finally {
    fileSystem.closeSync(fd);
  }
}

/** What a segment about to be deleted covered, for the log line that records its removal. */
function summarizeSegment(fileSystem: AuditFileSystem, path: string): { firstSeq: number | null; lastSeq: number | null; lastHash: string | null } {
  try {
    const fd = fileSystem.openSync(path, 'r');
    try {
      const first = readFirstLine(fileSystem, fd);
      const last = readLastLine(fileSystem, fd);
      const firstParsed = first === undefined ? undefined : parseAuditLine(first);
      const lastParsed = 'line' in last ? parseAuditLine(last.line) : undefined;
      return {
        firstSeq: firstParsed?.ok ? firstParsed.seq : null,
        lastSeq: lastParsed?.ok ? lastParsed.seq : null,
        lastHash: lastParsed?.ok ? lastParsed.hash : null,
      };
    } finally {
      fileSystem.closeSync(fd);
    }
  } catch {
    return { firstSeq: null, lastSeq: null, lastHash: null };
  }
}
