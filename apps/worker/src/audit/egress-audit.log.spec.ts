import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLogger } from '../logging/json-logger';
import { GENESIS_HASH, MAX_AUDIT_LINE_BYTES } from './audit-chain';
import { EgressAuditAppendFailedError } from './egress-audit-append-failed.error';
import { EgressAuditLogCorruptError } from './egress-audit-log-corrupt.error';
import { EgressAuditLog, type EgressAuditLogOptions } from './egress-audit.log';
import { verifyEgressAuditLog, verifyEgressAuditTrail } from './egress-audit.verifier';
import { FaultyFileSystem } from './faulty-file-system.mock';

const heartbeat = (freeSlots: number) => ({ frame: 'heartbeat', heartbeat: { running: [], freeSlots } });

describe('EgressAuditLog', () => {
  const file = () => join(mkdtempSync(join(tmpdir(), 'airlock-audit-')), 'egress-audit.jsonl');

  it('chains lines across reopen and verifies', () => {
    const path = file();
    const first = EgressAuditLog.open(path, { now: () => 0 });
    first.append('credit', { frame: 'credit', credit: { credits: 2 } });
    first.append('hello', { frame: 'hello', hello: { challengeSignature: Buffer.from([0xab, 0xcd]) } });
    first.close();
    const second = EgressAuditLog.open(path, { now: () => 1 });
    expect(second.append('heartbeat', { frame: 'heartbeat' })).toBe(3);
    second.close();
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('"challengeSignature":"abcd"');
    expect(verifyEgressAuditLog(text)).toEqual({ ok: true, count: 3 });
  });

  it('reports the first broken line after tampering', () => {
    const path = file();
    const log = EgressAuditLog.open(path);
    for (let i = 1; i <= 4; i += 1) log.append('credit', { frame: 'credit', credit: { credits: i } });
    log.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[2] = (lines[2] as string).replace('"credits":3', '"credits":9');
    writeFileSync(path, lines.join('\n'));
    expect(verifyEgressAuditLog(readFileSync(path, 'utf8'))).toEqual({ ok: false, count: 4, brokenLine: 3 });
  });

  it('detects a deleted line', () => {
    const path = file();
    const log = EgressAuditLog.open(path);
    for (let i = 1; i <= 3; i += 1) log.append('credit', { frame: 'credit', credit: { credits: i } });
    log.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(1, 1);
    expect(verifyEgressAuditLog(lines.join('\n'))).toMatchObject({ ok: false, brokenLine: 2 });
  });

  it('treats a missing file as an empty, valid log', () => {
    expect(verifyEgressAuditLog(undefined)).toEqual({ ok: true, count: 0 });
  });
});

describe('EgressAuditLog on a failing disk', () => {
  let directory: string;
  let path: string;
  let disk: FaultyFileSystem;
  const open = (options: EgressAuditLogOptions = {}) => EgressAuditLog.open(path, { fileSystem: disk, now: () => 1_700_000_000_000, ...options });
  const appendFailure = (log: EgressAuditLog, freeSlots = 9): EgressAuditAppendFailedError => {
    try {
      log.append('heartbeat', heartbeat(freeSlots));
    } catch (error) {
      if (error instanceof EgressAuditAppendFailedError) return error;
      throw error;
    }
    throw new Error('append succeeded; expected EgressAuditAppendFailedError');
  };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-audit-disk-'));
    path = join(directory, 'egress-audit.jsonl');
    disk = new FaultyFileSystem();
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('rolls a half-written line back to the previous length, so the chain stays intact', () => {
    const log = open();
    log.append('heartbeat', heartbeat(1));
    log.append('heartbeat', heartbeat(2));
    const before = readFileSync(path);
    disk.fail('writeSync', 'ENOSPC', { partialBytes: 40 });

    expect(appendFailure(log)).toMatchObject({ code: 'EGRESS_AUDIT_APPEND_FAILED', reason: 'ENOSPC' });
    expect(readFileSync(path)).toEqual(before);
    expect(log.healthy).toBe(false);
    expect(log.problem).toBe('ENOSPC');
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 2 });

    disk.heal();
    expect(log.append('heartbeat', heartbeat(3))).toBe(3);
    expect(log.healthy).toBe(true);
    expect(log.problem).toBeUndefined();
    log.close();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 3, unterminatedTail: undefined });
  });

  it('rolls back a line whose fsync failed, since it may not be on disk', () => {
    const log = open();
    log.append('heartbeat', heartbeat(1));
    const before = readFileSync(path);
    disk.fail('fsyncSync', 'EIO');
    expect(appendFailure(log).reason).toBe('EIO');
    expect(readFileSync(path)).toEqual(before);
    expect(log.append('heartbeat', heartbeat(2))).toBe(2);
    log.close();
  });

  it('cuts a partial line off before the next append when the rollback itself failed', () => {
    const log = open();
    log.append('heartbeat', heartbeat(1));
    const before = readFileSync(path);
    disk.fail('writeSync', 'ENOSPC', { partialBytes: 40 }).fail('ftruncateSync', 'EIO');
    expect(appendFailure(log).reason).toBe('ENOSPC');
    expect(readFileSync(path).length).toBe(before.length + 40);

    disk.heal();
    expect(log.append('heartbeat', heartbeat(2))).toBe(2);
    log.close();
    expect(verifyEgressAuditLog(readFileSync(path, 'utf8'))).toEqual({ ok: true, count: 2 });
  });

  it('refuses a line longer than readers accept, leaving the file and its health alone', () => {
    const log = open();
    log.append('heartbeat', heartbeat(1));
    const before = readFileSync(path);
    const huge = { frame: 'result', result: { padding: 'x'.repeat(MAX_AUDIT_LINE_BYTES) } };
    expect(() => log.append('result', huge)).toThrow(expect.objectContaining({ reason: 'LINE_TOO_LONG' }) as Error);
    expect(readFileSync(path)).toEqual(before);
    expect(log.healthy).toBe(true);
    log.close();
  });

  it('fails appends after close instead of writing', () => {
    const log = open();
    log.close();
    expect(appendFailure(log).reason).toBe('CLOSED');
  });

  it('starts unhealthy when the log cannot even be created for lack of space, and recovers', () => {
    disk.fail('openSync', 'ENOSPC', { onPath: (p) => p === path });
    const log = open();
    expect(log.healthy).toBe(false);
    expect(log.problem).toBe('ENOSPC');
    disk.fail('openSync', 'ENOSPC', { onPath: (p) => p === path });
    expect(appendFailure(log).reason).toBe('ENOSPC');
    expect(existsSync(path)).toBe(false);
    expect(log.append('heartbeat', heartbeat(1))).toBe(1);
    expect(log.healthy).toBe(true);
    log.close();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 1 });
  });
});

describe('EgressAuditLog group commit', () => {
  let directory: string;
  let path: string;
  let disk: FaultyFileSystem;
  const open = (options: EgressAuditLogOptions = {}) => EgressAuditLog.open(path, { fileSystem: disk, now: () => 1_700_000_000_000, ...options });
  /** The file calls made from now on, by name. */
  const callsFrom = () => {
    const start = disk.calls.length;
    return () => disk.calls.slice(start);
  };
  const fsyncs = (calls: string[]) => calls.filter((call) => call === 'fsyncSync').length;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-audit-commit-'));
    path = join(directory, 'egress-audit.jsonl');
    disk = new FaultyFileSystem();
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('writes lines without fsync, and commits them all with one', () => {
    const log = open();
    const calls = callsFrom();
    expect([1, 2, 3].map((freeSlots) => log.write('heartbeat', heartbeat(freeSlots)))).toEqual([1, 2, 3]);
    expect(fsyncs(calls())).toBe(0);
    log.commit();
    expect(fsyncs(calls())).toBe(1);
    log.commit();
    expect(fsyncs(calls())).toBe(1);
    log.close();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 3 });
  });

  it('cuts a failed commit back to the last durable line, and continues the chain from there', () => {
    const log = open();
    log.append('heartbeat', heartbeat(1));
    const durable = readFileSync(path);
    log.write('heartbeat', heartbeat(2));
    log.write('heartbeat', heartbeat(3));
    disk.fail('fsyncSync', 'EIO');

    expect(() => log.commit()).toThrow(expect.objectContaining({ code: 'EGRESS_AUDIT_APPEND_FAILED', reason: 'EIO' }) as Error);
    expect(readFileSync(path)).toEqual(durable);
    expect(log.lastSeq).toBe(1);
    expect(log.healthy).toBe(false);
    expect(log.problem).toBe('EIO');

    expect(log.write('heartbeat', heartbeat(4))).toBe(2);
    log.commit();
    expect(log.healthy).toBe(true);
    log.close();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 2, lastSeq: 2, unterminatedTail: undefined });
  });

  it('keeps the lines written before a failed write for their commit, but stays unhealthy until a later line is committed', () => {
    const log = open();
    log.write('heartbeat', heartbeat(1));
    disk.fail('writeSync', 'ENOSPC', { partialBytes: 30 });
    expect(() => log.write('heartbeat', heartbeat(2))).toThrow(expect.objectContaining({ reason: 'ENOSPC' }) as Error);

    log.commit();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 1, unterminatedTail: undefined });
    // The commit made the earlier line durable; the disk still refused the newer one.
    expect(log.healthy).toBe(false);

    disk.heal();
    expect(log.append('heartbeat', heartbeat(2))).toBe(2);
    expect(log.healthy).toBe(true);
    log.close();
  });

  it('fsyncs the lines awaiting their commit before rotating, so a closed segment is complete', () => {
    const log = open({ maxSegmentBytes: 1000 });
    const calls = callsFrom();
    for (let i = 1; i <= 12; i += 1) log.write('heartbeat', heartbeat(i));
    const made = calls();
    const rename = made.indexOf('renameSync');
    expect(rename).toBeGreaterThan(0);
    expect(made.slice(made.lastIndexOf('writeSync', rename), rename)).toContain('fsyncSync');
    log.commit();
    log.close();
    expect(existsSync(join(directory, 'egress-audit.000001.jsonl'))).toBe(true);
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 12, lastSeq: 12 });
  });

  it('fails the whole batch when a rotation could not fsync its lines, and rotates on a later write', () => {
    const log = open({ maxSegmentBytes: 1000 });
    log.append('heartbeat', heartbeat(0));
    const durable = readFileSync(path);
    disk.fail('fsyncSync', 'EIO');
    // Writes do not fsync, until the one that makes the rotation due: its fsync of the lines before it fails.
    let written = 0;
    let failure: unknown;
    while (failure === undefined && written < 20) {
      try {
        log.write('heartbeat', heartbeat(written));
        written += 1;
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toMatchObject({ reason: 'EIO' });
    expect(written).toBeGreaterThan(0);
    expect(readFileSync(path)).toEqual(durable);
    expect(existsSync(join(directory, 'egress-audit.000001.jsonl'))).toBe(false);
    // Nothing is left to fsync, but the lines the batch wrote are gone: its frames must not be sent.
    expect(() => log.commit()).toThrow(expect.objectContaining({ reason: 'EIO' }) as Error);
    expect(log.lastSeq).toBe(1);

    for (let i = 1; i <= 12; i += 1) expect(log.append('heartbeat', heartbeat(i))).toBe(i + 1);
    expect(log.healthy).toBe(true);
    log.close();
    expect(existsSync(join(directory, 'egress-audit.000001.jsonl'))).toBe(true);
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 13, lastSeq: 13 });
  });

  it('commits what was written before closing', () => {
    const log = open();
    log.write('heartbeat', heartbeat(1));
    const calls = callsFrom();
    log.close();
    expect(calls().slice(0, 2)).toEqual(['fsyncSync', 'closeSync']);
    expect(() => log.commit()).not.toThrow();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 1 });
  });
});

describe('EgressAuditLog torn tail at open', () => {
  let directory: string;
  let path: string;
  const nowMs = 1_700_000_000_000;
  const seed = (frames: number) => {
    const log = EgressAuditLog.open(path);
    for (let i = 1; i <= frames; i += 1) log.append('heartbeat', heartbeat(i));
    log.close();
    return readFileSync(path);
  };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-audit-torn-'));
    path = join(directory, 'egress-audit.jsonl');
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('moves an unterminated last line aside into its own file and continues the chain', () => {
    const intact = seed(3);
    const torn = '{"seq":4,"time":"2023-11-14T22:13:20.000Z","type":"heartbeat","frame":{"fra';
    appendFileSync(path, torn);
    const events: string[] = [];
    const log = EgressAuditLog.open(path, { now: () => nowMs, logger: new JsonLogger((line) => events.push(line)) });

    const quarantinedFile = join(directory, `egress-audit.torn-seq4-${nowMs}.part`);
    expect(log.quarantinedTail).toEqual({ file: quarantinedFile, bytes: Buffer.byteLength(torn) });
    expect(readFileSync(quarantinedFile, 'utf8')).toBe(torn);
    expect(readFileSync(path)).toEqual(intact);
    expect(log.healthy).toBe(true);
    expect(log.append('heartbeat', heartbeat(4))).toBe(4);
    log.close();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 4, quarantined: [{ file: quarantinedFile, bytes: Buffer.byteLength(torn) }] });
    // The local log names the file and its size, never the torn bytes.
    const quarantineEvent = events.map((line) => JSON.parse(line) as Record<string, unknown>).find((event) => event['event'] === 'egress-audit-tail-quarantined');
    expect(quarantineEvent).toMatchObject({ file: quarantinedFile, bytes: Buffer.byteLength(torn), afterSeq: 3 });
    expect(events.join('')).not.toContain('"fra');
  });

  it('quarantines a tail of NUL bytes, as a power loss can leave', () => {
    seed(2);
    appendFileSync(path, Buffer.alloc(300));
    const log = EgressAuditLog.open(path, { now: () => nowMs });
    expect(log.quarantinedTail?.bytes).toBe(300);
    expect(log.append('heartbeat', heartbeat(3))).toBe(3);
    log.close();
  });

  it('quarantines a first line that never completed', () => {
    writeFileSync(path, '{"seq":1,"ti');
    const log = EgressAuditLog.open(path, { now: () => nowMs });
    expect(log.quarantinedTail?.file).toBe(join(directory, `egress-audit.torn-seq1-${nowMs}.part`));
    expect(log.append('heartbeat', heartbeat(1))).toBe(1);
    log.close();
    expect(verifyEgressAuditLog(readFileSync(path, 'utf8'))).toEqual({ ok: true, count: 1 });
  });

  it('keeps a second quarantined tail with the same name apart', () => {
    seed(1);
    appendFileSync(path, 'torn one');
    EgressAuditLog.open(path, { now: () => nowMs }).close();
    appendFileSync(path, 'torn two');
    const second = EgressAuditLog.open(path, { now: () => nowMs });
    expect(second.quarantinedTail?.file).toBe(join(directory, `egress-audit.torn-seq2-${nowMs}-1.part`));
    second.close();
    expect(verifyEgressAuditTrail(path).quarantined.map((tail) => tail.bytes)).toEqual([8, 8]);
  });

  it('refuses to open a log whose middle is corrupt, even with an intact last line', () => {
    seed(4);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[1] = (lines[1] as string).replace('"freeSlots":2', '"freeSlots":7');
    writeFileSync(path, lines.join('\n'));
    expect(() => EgressAuditLog.open(path)).toThrow(EgressAuditLogCorruptError);
    expect(() => EgressAuditLog.open(path)).toThrow(/corrupt at line 2 \(hash does not match the line's content\)\. This is not an append cut short by a crash/);
    expect(readdirSync(directory)).toEqual(['egress-audit.jsonl']);
  });

  it('refuses garbage that ends in a newline: a torn append never does', () => {
    seed(2);
    appendFileSync(path, 'not an audit line\n');
    expect(() => EgressAuditLog.open(path)).toThrow(/corrupt at line 3 \(not an audit line/);
  });

  it('refuses an unterminated tail longer than any line the worker writes', () => {
    seed(1);
    appendFileSync(path, Buffer.alloc(MAX_AUDIT_LINE_BYTES + 10, 0x41));
    expect(() => EgressAuditLog.open(path)).toThrow(/corrupt at line 2 \(unterminated and longer than any audit line/);
  });

  it('opens unhealthy when the disk is too full to quarantine, and finishes the move once space is back', () => {
    const intact = seed(2);
    appendFileSync(path, '{"seq":3,"tim');
    const disk = new FaultyFileSystem().fail('writeSync', 'ENOSPC', { times: Infinity });
    const log = EgressAuditLog.open(path, { fileSystem: disk, now: () => nowMs });
    expect(log.healthy).toBe(false);
    expect(log.problem).toBe('ENOSPC');
    expect(log.quarantinedTail).toBeUndefined();
    expect(readdirSync(directory)).toEqual(['egress-audit.jsonl']); // the partial copy was removed
    expect(() => log.append('heartbeat', heartbeat(3))).toThrow(EgressAuditAppendFailedError);
    expect(readFileSync(path).subarray(0, intact.length)).toEqual(intact);

    disk.heal();
    expect(log.append('heartbeat', heartbeat(3))).toBe(3);
    expect(log.healthy).toBe(true);
    expect(log.quarantinedTail).toEqual({ file: join(directory, `egress-audit.torn-seq3-${nowMs}.part`), bytes: 13 });
    log.close();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 3, unterminatedTail: undefined });
  });

  it('throws a quarantine failure that is not about space, since waiting would not fix it', () => {
    seed(1);
    appendFileSync(path, 'torn');
    const disk = new FaultyFileSystem().fail('openSync', 'EACCES', { onPath: (p) => p.endsWith('.part') });
    expect(() => EgressAuditLog.open(path, { fileSystem: disk, now: () => nowMs })).toThrow(/EACCES/);
  });
});

describe('EgressAuditLog rotation and retention', () => {
  let directory: string;
  let path: string;
  let events: Record<string, unknown>[];
  const segment = (n: number) => join(directory, `egress-audit.${String(n).padStart(6, '0')}.jsonl`);
  const open = (options: EgressAuditLogOptions = {}) =>
    EgressAuditLog.open(path, { maxSegmentBytes: 1000, maxSegments: 100, logger: new JsonLogger((line) => events.push(JSON.parse(line) as Record<string, unknown>)), ...options });
  const linesOf = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { seq: number; prevHash: string; hash: string });

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-audit-rotate-'));
    path = join(directory, 'egress-audit.jsonl');
    events = [];
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('rotates by size into numbered segments that form one chain', () => {
    const log = open();
    for (let i = 1; i <= 40; i += 1) log.append('heartbeat', heartbeat(i));
    log.close();

    const segments = readdirSync(directory).filter((name) => name !== 'egress-audit.jsonl').sort();
    expect(segments.length).toBeGreaterThanOrEqual(3);
    expect(segments[0]).toBe('egress-audit.000001.jsonl');
    const files = [...segments.map((name) => join(directory, name)), path];
    for (const name of files) expect(statSync(name).size).toBeLessThanOrEqual(1000);
    const all = files.flatMap(linesOf);
    expect(all.map((line) => line.seq)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
    expect(all[0]?.prevHash).toBe(GENESIS_HASH);
    // Each file's first line chains from the last line of the file before it.
    for (let index = 1; index < files.length; index += 1) {
      expect(linesOf(files[index] as string)[0]?.prevHash).toBe(linesOf(files[index - 1] as string).at(-1)?.hash);
    }
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 40, firstSeq: 1, lastSeq: 40, anchoredAtSeq: undefined, files });
    expect(events.filter((event) => event['event'] === 'egress-audit-rotated')).toHaveLength(segments.length);
  });

  it('continues from the newest segment when a crash left no active file after a rotation', () => {
    const log = open();
    for (let i = 1; i <= 12; i += 1) log.append('heartbeat', heartbeat(i));
    log.close();
    const lastSeq = linesOf(path).at(-1)?.seq as number;
    rmSync(path);
    const before = readdirSync(directory).length;
    // The frames of the deleted active file are gone, so the chain continues from the newest segment.
    const newestSegment = linesOf(segment(before)).at(-1)!;
    expect(newestSegment.seq).toBeLessThan(lastSeq);
    const reopened = open();
    expect(reopened.append('heartbeat', heartbeat(99))).toBe(newestSegment.seq + 1);
    reopened.close();
    expect(linesOf(path)[0]?.prevHash).toBe(newestSegment.hash);
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, lastSeq: newestSegment.seq + 1 });
  });

  it('refuses to open an active file that does not continue the newest segment', () => {
    const log = open();
    for (let i = 1; i <= 12; i += 1) log.append('heartbeat', heartbeat(i));
    log.close();
    // An active file that restarts the chain from genesis hides what the segments hold.
    rmSync(path);
    const stray = EgressAuditLog.open(join(directory, 'elsewhere.jsonl'));
    stray.append('heartbeat', heartbeat(1));
    stray.close();
    writeFileSync(path, readFileSync(join(directory, 'elsewhere.jsonl')));
    rmSync(join(directory, 'elsewhere.jsonl'));
    expect(() => open()).toThrow(/egress-audit\.jsonl is corrupt at line 1 \(seq 1 where \d+ was expected; it must continue the newest segment\)/);
  });

  it('keeps at most maxSegments segments and logs the seq range and final hash of each one removed', () => {
    const log = open({ maxSegments: 2 });
    for (let i = 1; i <= 60; i += 1) log.append('heartbeat', heartbeat(i));
    log.close();

    const remaining = readdirSync(directory).filter((name) => name !== 'egress-audit.jsonl');
    expect(remaining).toHaveLength(2);
    const removed = events.filter((event) => event['event'] === 'egress-audit-segment-removed');
    expect(removed.length).toBeGreaterThanOrEqual(2);
    expect(removed[0]).toMatchObject({ segment: segment(1), firstSeq: 1 });
    // The removed ranges are contiguous, and the first retained line chains from the last removed hash.
    removed.slice(1).forEach((event, index) => expect(event['firstSeq']).toBe((removed[index]?.['lastSeq'] as number) + 1));
    const lastRemoved = removed.at(-1)!;
    const firstRetained = linesOf(join(directory, remaining.sort()[0] as string))[0]!;
    expect(firstRetained.seq).toBe((lastRemoved['lastSeq'] as number) + 1);
    expect(firstRetained.prevHash).toBe(lastRemoved['lastHash']);
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, firstSeq: firstRetained.seq, lastSeq: 60, anchoredAtSeq: firstRetained.seq, frames: 60 - firstRetained.seq + 1 });
  });

  it('applies a lowered maxSegments at open', () => {
    const log = open();
    for (let i = 1; i <= 40; i += 1) log.append('heartbeat', heartbeat(i));
    log.close();
    open({ maxSegments: 1 }).close();
    expect(readdirSync(directory).sort()).toEqual([expect.stringMatching(/^egress-audit\.0000\d\d\.jsonl$/), 'egress-audit.jsonl']);
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, lastSeq: 40 });
  });

  it('keeps recording in the active file when the rename fails, and rotates on a later append', () => {
    const disk = new FaultyFileSystem().fail('renameSync', 'EIO');
    const log = open({ fileSystem: disk });
    for (let i = 1; i <= 12; i += 1) log.append('heartbeat', heartbeat(i));
    log.close();
    expect(events.filter((event) => event['event'] === 'egress-audit-rotate-failed')).toEqual([expect.objectContaining({ code: 'EIO' })]);
    expect(existsSync(segment(1))).toBe(true);
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 12 });
  });

  it('fails the append when the new active file cannot be created, and creates it on the next one', () => {
    const log = open();
    for (let i = 1; i <= 4; i += 1) log.append('heartbeat', heartbeat(i));
    log.close();
    const disk = new FaultyFileSystem();
    const reopened = open({ fileSystem: disk });
    let seq = 4;
    // Fill the active file up to the point where the next append rotates.
    while (statSync(path).size + 200 <= 1000) seq = reopened.append('heartbeat', heartbeat(seq));
    disk.fail('openSync', 'ENOSPC', { onPath: (p) => p === path });
    expect(() => reopened.append('heartbeat', heartbeat(0))).toThrow(expect.objectContaining({ reason: 'ENOSPC' }) as Error);
    expect(reopened.healthy).toBe(false);
    expect(existsSync(path)).toBe(false);
    expect(reopened.append('heartbeat', heartbeat(1))).toBe(seq + 1);
    reopened.close();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, lastSeq: seq + 1, frames: seq + 1 });
  });
});
