import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureCode, JobOutcome, Phase, type JobResult__Output } from '@airlock/protocol';
import { CAN_MOUNT_TMPFS, fillUntilFull, mountSmallTmpfs } from '@airlock/testing';
import { JobResultBuilder } from '../job-result.builder';
import { JsonLogger } from '../../logging/json-logger';
import { JOB_LOGS_DIRECTORY, JOB_RECORDS_DIRECTORY, type JobRecordLimits, RECORD_FILE, TRANSCRIPT_FILE } from './job-record';
import { JobRecordStore } from './job-record.store';
import { displayStateOf, JobRecordReader, readRecordFile } from './job-record.reader';

const HOUR = 3_600_000;
const START = Date.parse('2026-11-01T00:00:00.000Z');

describe('JobRecordStore (real files)', () => {
  let stateDir: string;
  let clock: number;
  let logs: Array<Record<string, unknown>>;
  const logger = new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const store = (options: { maxAge?: number; maxBytes?: number; limits?: Partial<JobRecordLimits> } = {}) =>
    new JobRecordStore(stateDir, { maxAge: options.maxAge ?? 720 * HOUR, maxBytes: options.maxBytes ?? 1024 ** 3 }, logger, { now: () => clock, ...(options.limits ? { limits: options.limits } : {}) });
  const opening = (jobId: string, attempt = 1) => ({ jobId, attempt, repoAlias: 'demo', baseRef: 'main', ticketTitle: `Fix ${jobId}` });
  const recordOf = (jobKey: string) => readRecordFile(join(stateDir, JOB_RECORDS_DIRECTORY, jobKey, RECORD_FILE));
  const recordKeys = () => readdirSync(join(stateDir, JOB_RECORDS_DIRECTORY)).sort();
  const writeJobLog = (jobKey: string, name: string, bytes: number) => writeFileSync(join(stateDir, JOB_LOGS_DIRECTORY, `${jobKey}.${name}.log`), 'x'.repeat(bytes));
  const failed = (jobId: string, code = FailureCode.TESTS_FAILED, phase = Phase.PHASE_TEST): JobResult__Output => {
    const builder = new JobResultBuilder(jobId, 1);
    builder.recordDuration(Phase.PHASE_TEST, 1500);
    builder.changeMac = Buffer.alloc(32, 0xab);
    return builder.failed(code, phase);
  };
  const succeeded = (jobId: string) => new JobResultBuilder(jobId, 1).succeeded();

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'airlock-records-'));
    mkdirSync(join(stateDir, JOB_LOGS_DIRECTORY));
    clock = START;
    logs = [];
  });

  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('keeps an attempt: metadata running then ended with the result (bytes as hex), transcript lines, patches with their verdicts', () => {
    const recorder = store().openAttempt(opening('job-a'), logger);
    expect(recordOf('job-a-1')).toMatchObject({ jobId: 'job-a', attempt: 1, repoAlias: 'demo', baseRef: 'main', ticketTitle: 'Fix job-a', state: 'running', endedAt: null, baseCommit: null, result: null, workerPid: process.pid });
    recorder.baseCommit('a'.repeat(40));
    recorder.transcript({ kind: 'prompt', messages: [{ role: 'user', content: 'fix it' }] });
    clock += 2000;
    recorder.transcript({ kind: 'answer', endpoint: 'local', content: 'edit blocks', promptTokens: 10, completionTokens: 5 });
    expect(recorder.patch('diff --git a/x b/x\n')).toBe(1);
    recorder.patchVerdict(1, 'tests-failed');
    expect(recorder.patch('diff --git a/y b/y\n')).toBe(2);
    expect(recorder.lastPatchNumber).toBe(2);
    clock += 3000;
    recorder.end(failed('job-a'));

    const record = recordOf('job-a-1');
    expect(record).toMatchObject({ state: 'ended', startedAt: '2026-11-01T00:00:00.000Z', endedAt: '2026-11-01T00:00:05.000Z', baseCommit: 'a'.repeat(40) });
    expect(record.result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: 'TESTS_FAILED', failedPhase: 'PHASE_TEST', phaseDurations: [{ phase: 'PHASE_TEST', durationMs: 1500 }], changeMac: 'ab'.repeat(32) });
    expect(record.patches.map((patch) => [patch.number, patch.file, patch.verdict, patch.verdicts.map((entry) => entry.verdict)])).toEqual([
      [1, 'patches/01.patch', 'tests-failed', ['staged', 'tests-failed']],
      [2, 'patches/02.patch', 'TESTS_FAILED', ['staged', 'TESTS_FAILED']],
    ]);
    expect(readFileSync(join(stateDir, JOB_RECORDS_DIRECTORY, 'job-a-1', 'patches', '01.patch'), 'utf8')).toBe('diff --git a/x b/x\n');
    const transcript = new JobRecordReader(stateDir).transcript(new JobRecordReader(stateDir).find('job-a'));
    expect(transcript).toEqual([
      { at: '2026-11-01T00:00:00.000Z', kind: 'prompt', messages: [{ role: 'user', content: 'fix it' }] },
      { at: '2026-11-01T00:00:02.000Z', kind: 'answer', endpoint: 'local', content: 'edit blocks', promptTokens: 10, completionTokens: 5 },
    ]);
    expect(record.transcript).toEqual({ entries: 2, bytes: statSync(join(stateDir, JOB_RECORDS_DIRECTORY, 'job-a-1', TRANSCRIPT_FILE)).size, truncated: false });
  });

  it('gives the last patch of a delivered attempt the verdict delivered', () => {
    const recorder = store().openAttempt(opening('job-ok'), logger);
    recorder.patch('diff\n');
    recorder.end(succeeded('job-ok'));
    expect(recordOf('job-ok-1').patches[0]?.verdicts.map((entry) => entry.verdict)).toEqual(['staged', 'delivered']);
  });

  it('rewrites record.json atomically: a reader in another process never sees a partial file while it is rewritten 300 times', async () => {
    const recorder = store().openAttempt(opening('job-busy'), logger);
    const file = join(stateDir, JOB_RECORDS_DIRECTORY, 'job-busy-1', RECORD_FILE);
    const done = join(stateDir, 'done');
    // A plain node reader: JSON.parse of whatever the file holds at each moment, until told to stop.
    const readerScript = `const fs=require('fs');let reads=0,bad=0;for(;;){const stop=fs.existsSync(${JSON.stringify(done)});try{JSON.parse(fs.readFileSync(${JSON.stringify(file)},'utf8'));}catch(e){bad++;}reads++;if(stop)break;}process.stdout.write(JSON.stringify({reads,bad}));`;
    const child = spawn(process.execPath, ['-e', readerScript]);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Each note grows record.json (its transcript counts) and rewrites it whole.
    for (let i = 0; i < 300; i += 1) recorder.transcript({ kind: 'note', text: `step ${i} ${'padding '.repeat(50)}` });
    writeFileSync(done, '');
    await exited;
    const { reads, bad } = JSON.parse(output) as { reads: number; bad: number };
    expect(reads).toBeGreaterThan(10);
    expect(bad).toBe(0);
    expect(recordOf('job-busy-1').transcript.entries).toBe(300);
  });

  it('reads the last complete record.json when a crash left a half-written record.json.tmp beside it', () => {
    const recorder = store().openAttempt(opening('job-torn'), logger);
    recorder.baseCommit('b'.repeat(40));
    const folder = join(stateDir, JOB_RECORDS_DIRECTORY, 'job-torn-1');
    writeFileSync(join(folder, `${RECORD_FILE}.tmp`), '{"version":1,"jobId":"job-to');
    expect(recordOf('job-torn-1').baseCommit).toBe('b'.repeat(40));
    recorder.end(succeeded('job-torn'));
    expect(recordOf('job-torn-1').state).toBe('ended');
    expect(existsSync(join(folder, `${RECORD_FILE}.tmp`))).toBe(false);
  });

  it('caps the transcript: the entry that would pass the limit and all after it are replaced by one note', () => {
    const recorder = store({ limits: { maxTranscriptBytes: 4096 } }).openAttempt(opening('job-long'), logger);
    for (let i = 0; i < 20; i += 1) recorder.transcript({ kind: 'answer', content: `${i} ${'y'.repeat(400)}` });
    const folder = join(stateDir, JOB_RECORDS_DIRECTORY, 'job-long-1');
    const entries = new JobRecordReader(stateDir).transcript(new JobRecordReader(stateDir).find('job-long-1'));
    expect(statSync(join(folder, TRANSCRIPT_FILE)).size).toBeLessThanOrEqual(4096);
    expect(entries.slice(0, -1).every((entry) => entry.kind === 'answer')).toBe(true);
    expect(entries.length).toBeGreaterThan(3);
    expect(entries.at(-1)).toMatchObject({ kind: 'note', text: expect.stringMatching(/^transcript truncated: this answer entry \(\d+ bytes\) and every entry after it were not kept; the transcript holds at most 4096 bytes$/) });
    expect(recordOf('job-long-1').transcript).toMatchObject({ entries: entries.length, truncated: true });
  });

  it('caps a patch at maxPatchBytes (marked truncated, its real size kept) and the patches per attempt at maxPatches', () => {
    const recorder = store({ limits: { maxPatchBytes: 100, maxPatches: 2 } }).openAttempt(opening('job-big'), logger);
    expect(recorder.patch('p'.repeat(250))).toBe(1);
    expect(recorder.patch('small\n')).toBe(2);
    expect(recorder.patch('third\n')).toBeUndefined();
    const record = recordOf('job-big-1');
    expect(record.patches.map(({ bytes, storedBytes, truncated, stored }) => ({ bytes, storedBytes, truncated, stored }))).toEqual([
      { bytes: 250, storedBytes: 100, truncated: true, stored: true },
      { bytes: 6, storedBytes: 6, truncated: false, stored: true },
    ]);
    expect(statSync(join(stateDir, JOB_RECORDS_DIRECTORY, 'job-big-1', 'patches', '01.patch')).size).toBe(100);
    const notes = new JobRecordReader(stateDir).transcript(new JobRecordReader(stateDir).find('job-big-1'));
    expect(notes).toEqual([expect.objectContaining({ kind: 'note', text: 'patch not kept: this record already holds 2 patches, the most it keeps' })]);
  });

  it('keeps concurrent attempts apart, and retention never removes an attempt still open in this process', () => {
    const records = store({ maxBytes: 1024 * 1024 });
    const first = records.openAttempt(opening('job-x'), logger);
    clock += 1000;
    const second = records.openAttempt(opening('job-y'), logger);
    first.transcript({ kind: 'prompt', messages: [{ role: 'user', content: 'x' }] });
    second.transcript({ kind: 'prompt', messages: [{ role: 'user', content: 'y' }] });
    first.patch('x patch\n');
    second.patch('y patch\n');
    writeJobLog('job-x-1', 'test', 10);
    writeJobLog('job-y-1', 'test', 2 * 1024 * 1024); // takes the store past maxBytes on its own
    first.end(succeeded('job-x'));
    // Retention runs as job-x ends: the store is past maxBytes, job-x (ended, oldest) goes, job-y stays because it is open.
    expect(recordKeys()).toEqual(['job-y-1']);
    expect(readdirSync(join(stateDir, JOB_LOGS_DIRECTORY))).toEqual(['job-y-1.test.log']);
    expect(readFileSync(join(stateDir, JOB_RECORDS_DIRECTORY, 'job-y-1', 'patches', '01.patch'), 'utf8')).toBe('y patch\n');
    clock += 800 * HOUR;
    expect(records.prune().removed).toEqual([]);
    second.end(failed('job-y'));
    expect(recordKeys()).toEqual([]);
    expect(logs.filter((line) => line['event'] === 'job-record-removed').map((line) => [line['jobKey'], line['reason']])).toEqual([
      ['job-x-1', 'size'],
      ['job-y-1', 'age'],
    ]);
  });

  it('removes attempts older than maxAge with their logs, and logs left without a record by their age', () => {
    const records = store({ maxAge: 24 * HOUR });
    records.openAttempt(opening('job-old'), logger).end(failed('job-old'));
    writeJobLog('job-old-1', 'test', 100);
    writeJobLog('job-old-1', 'setup', 100);
    const orphan = join(stateDir, JOB_LOGS_DIRECTORY, 'job-pre-1.test.log');
    writeFileSync(orphan, 'from before records existed');
    utimesSync(orphan, new Date(START - HOUR), new Date(START - HOUR));
    clock += 20 * HOUR;
    records.openAttempt(opening('job-new'), logger).end(succeeded('job-new'));
    writeJobLog('job-new-1', 'test', 100);
    clock += 5 * HOUR;
    const report = records.prune();
    expect(report.removed.map(({ jobKey, reason }) => [jobKey, reason]).sort()).toEqual([
      ['job-old-1', 'age'],
      ['job-pre-1', 'age'],
    ]);
    expect(recordKeys()).toEqual(['job-new-1']);
    expect(readdirSync(join(stateDir, JOB_LOGS_DIRECTORY))).toEqual(['job-new-1.test.log']);
  });

  it('removes the oldest attempts first until records and logs fit in maxBytes', () => {
    const records = store();
    for (const jobId of ['job-1', 'job-2', 'job-3', 'job-4']) {
      records.openAttempt(opening(jobId), logger).end(failed(jobId));
      writeJobLog(`${jobId}-1`, 'test', 30_000);
      clock += 60_000;
    }
    const reader = new JobRecordReader(stateDir);
    const sizeOf = (jobKey: string) => reader.folderBytes(join(reader.recordsDirectory, jobKey)) + 30_000;
    const total = ['job-1-1', 'job-2-1', 'job-3-1', 'job-4-1'].reduce((sum, key) => sum + sizeOf(key), 0);
    const bounded = new JobRecordStore(stateDir, { maxAge: 720 * HOUR, maxBytes: total - sizeOf('job-1-1') - 1 }, logger, { now: () => clock });
    const report = bounded.prune();
    expect(report.removed.map((entry) => entry.jobKey)).toEqual(['job-1-1', 'job-2-1']);
    expect(report.keptBytes).toBe(sizeOf('job-3-1') + sizeOf('job-4-1'));
    expect(report.keptBytes).toBeLessThanOrEqual(total - sizeOf('job-1-1') - 1);
    expect(recordKeys()).toEqual(['job-3-1', 'job-4-1']);
  });

  it('marks what a crash left running as interrupted at the next start; such a record goes by age, never for size', () => {
    // The first daemon "crashes": its attempt is never ended.
    store().openAttempt(opening('job-crash'), logger).patch('unfinished\n');
    const listing = new JobRecordReader(stateDir).find('job-crash');
    expect(displayStateOf(listing, () => true)).toBe('running');
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid as number;
    expect(displayStateOf({ jobKey: listing.jobKey, directory: listing.directory, modifiedMs: listing.modifiedMs, record: { ...listing.record!, workerPid: deadPid } })).toBe('interrupted');

    // A record some other process still holds (state running, not open here) is not taken for size.
    const other = new JobRecordStore(stateDir, { maxAge: 24 * HOUR, maxBytes: 1024 * 1024 }, logger, { now: () => clock });
    writeJobLog('job-crash-1', 'test', 2 * 1024 * 1024);
    expect(other.prune().removed).toEqual([]);

    clock += HOUR;
    const restarted = new JobRecordStore(stateDir, { maxAge: 24 * HOUR, maxBytes: 1024 * 1024 }, logger, { now: () => clock });
    expect(restarted.markInterrupted()).toBe(1);
    expect(recordOf('job-crash-1')).toMatchObject({ state: 'interrupted', interruptedAt: '2026-11-01T01:00:00.000Z', endedAt: null });
    expect(displayStateOf(new JobRecordReader(stateDir).find('job-crash'))).toBe('interrupted');
    expect(restarted.markInterrupted()).toBe(0);
    // Interrupted is over: now it may go for size like any ended record.
    expect(restarted.prune().removed).toEqual([expect.objectContaining({ jobKey: 'job-crash-1', reason: 'size' })]);
  });

  it('removes a record still marked running by another process only once it is older than maxAge', () => {
    store().openAttempt(opening('job-held'), logger);
    const other = () => new JobRecordStore(stateDir, { maxAge: 24 * HOUR, maxBytes: 1024 ** 3 }, logger, { now: () => clock });
    clock += 23 * HOUR;
    expect(other().prune().removed).toEqual([]);
    clock += 2 * HOUR;
    expect(other().prune().removed).toEqual([expect.objectContaining({ jobKey: 'job-held-1', reason: 'age' })]);
  });

  it('never throws when the records folder cannot be written, and logs the errno code only', () => {
    writeFileSync(join(stateDir, JOB_RECORDS_DIRECTORY), 'a file where the folder should be');
    const recorder = store().openAttempt(opening('job-nowhere'), logger);
    recorder.baseCommit('c'.repeat(40));
    recorder.transcript({ kind: 'prompt', messages: [{ role: 'user', content: 'secret source code' }] });
    expect(recorder.patch('diff\n')).toBe(1);
    recorder.patchVerdict(1, 'tests-passed');
    recorder.patchVerdict(7, 'tests-passed');
    recorder.end(succeeded('job-nowhere'));
    const failures = logs.filter((line) => line['event'] === 'job-record-write-failed');
    // 1st, 2nd, 4th, 8th… failure in a row: a full disk does not flood the log.
    expect(failures.map((line) => line['consecutiveFailures'])).toEqual([1, 2, 4, 8]);
    expect(failures.every((line) => line['code'] === 'ENOTDIR')).toBe(true);
    expect(JSON.stringify(logs)).not.toContain('secret source code');
    expect(logs.some((line) => line['event'] === 'job-record-unknown-patch' && line['patchNumber'] === 7)).toBe(true);
  });
});

const describeOnTmpfs = CAN_MOUNT_TMPFS ? describe : describe.skip;

describeOnTmpfs(`JobRecordStore on a real full disk (64 KiB tmpfs)${CAN_MOUNT_TMPFS ? '' : ' (skipped: mounting a tmpfs needs root)'}`, () => {
  it('goes on through ENOSPC without throwing, and the first write after space is freed carries everything', () => {
    const tmpfs = mountSmallTmpfs('64k');
    try {
      const logs: Array<Record<string, unknown>> = [];
      const logger = new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
      const store = new JobRecordStore(tmpfs.path, { maxAge: HOUR, maxBytes: 1024 ** 3 }, logger);
      const recorder = store.openAttempt({ jobId: 'job-full', attempt: 1, repoAlias: 'demo', baseRef: 'main', ticketTitle: 'Fix' }, logger);
      recorder.transcript({ kind: 'prompt', messages: [{ role: 'user', content: 'before the disk filled' }] });
      const filler = join(tmpfs.path, 'filler');
      fillUntilFull(filler);
      recorder.transcript({ kind: 'answer', content: 'z'.repeat(8192) });
      expect(recorder.patch('q'.repeat(8192))).toBe(1);
      expect(logs.filter((line) => line['event'] === 'job-record-write-failed').map((line) => line['code'])).toContain('ENOSPC');
      rmSync(filler);
      recorder.end(new JobResultBuilder('job-full', 1).failed(FailureCode.TESTS_FAILED, Phase.PHASE_TEST));
      const reader = new JobRecordReader(tmpfs.path);
      const listing = reader.find('job-full');
      expect(listing.record).toMatchObject({ state: 'ended', transcript: { entries: 1, truncated: false } });
      expect(listing.record?.patches).toEqual([expect.objectContaining({ number: 1, stored: false, storedBytes: 0, bytes: 8192, verdict: 'TESTS_FAILED' })]);
      // The refused append was cut back off: the transcript is still whole lines.
      expect(reader.transcript(listing)).toEqual([expect.objectContaining({ kind: 'prompt' })]);
      expect(logs.some((line) => line['event'] === 'job-record-write-recovered')).toBe(true);
    } finally {
      tmpfs.unmount();
    }
  });
});
