import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerFrame__Output } from '@airlock/protocol';
import { EgressAuditLog } from '../audit/egress-audit.log';
import { verifyEgressAuditTrail } from '../audit/egress-audit.verifier';
import { FaultyFileSystem } from '../audit/faulty-file-system.mock';
import { JsonLogger } from '../logging/json-logger';
import { OutboundGate } from './outbound.gate';

const credit = (credits: number) => ({ frame: 'credit', credit: { credits } }) as WorkerFrame__Output;
/** Resolves after the gate's flush of this tick: both are setImmediate callbacks, run in order. */
const endOfTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The real file system, failing on demand, that also notes each fsync of the active log file in `order`. */
class OrderRecordingFileSystem extends FaultyFileSystem {
  private readonly activeFds = new Set<number>();

  constructor(
    private readonly activePath: string,
    private readonly order: string[],
  ) {
    super();
  }

  override openSync(path: string, flags: string, mode?: number): number {
    const fd = super.openSync(path, flags, mode);
    if (path === this.activePath) this.activeFds.add(fd);
    return fd;
  }

  override closeSync(fd: number): void {
    super.closeSync(fd);
    this.activeFds.delete(fd);
  }

  override fsyncSync(fd: number): void {
    super.fsyncSync(fd);
    if (this.activeFds.has(fd)) this.order.push('fsync');
  }
}

describe('OutboundGate', () => {
  let directory: string;
  let path: string;
  let disk: OrderRecordingFileSystem;
  let audit: EgressAuditLog;
  let logged: Record<string, unknown>[];
  /** Fsyncs of the active file and writes to the stream, in the order they happened. */
  let order: string[];
  let sent: WorkerFrame__Output[];
  let gate: OutboundGate;
  const events = (name: string) => logged.filter((line) => line['event'] === name);
  const linesOnDisk = () => readFileSync(path, 'utf8').split('\n').filter((line) => line !== '').length;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-gate-'));
    path = join(directory, 'egress-audit.jsonl');
    order = [];
    disk = new OrderRecordingFileSystem(path, order);
    audit = EgressAuditLog.open(path, { fileSystem: disk });
    logged = [];
    sent = [];
    gate = new OutboundGate(audit, new JsonLogger((line) => logged.push(JSON.parse(line) as Record<string, unknown>)));
    gate.attach({
      write: (frame) => {
        order.push('write');
        sent.push(frame);
      },
    });
  });

  afterEach(() => {
    gate.flush();
    audit.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('records, then sends', async () => {
    expect(gate.send(credit(2))).toBe(true);
    await endOfTick();
    expect(sent).toEqual([credit(2)]);
    expect(readFileSync(path, 'utf8')).toContain('"credits":2');
    expect(gate.auditHealthy).toBe(true);
    expect(gate.auditFailureCount).toBe(0);
  });

  it('does not send, and does not throw, when the audit log cannot record the frame; then recovers', async () => {
    gate.send(credit(1));
    await endOfTick();
    const before = readFileSync(path);
    disk.fail('writeSync', 'ENOSPC', { partialBytes: 20, times: Infinity });

    expect(() => expect(gate.send(credit(2))).toBe(false)).not.toThrow();
    expect(sent).toEqual([credit(1)]);
    expect(readFileSync(path)).toEqual(before);
    expect(gate.auditHealthy).toBe(false);
    expect(gate.auditProblem).toBe('ENOSPC');
    expect(gate.auditFailureCount).toBe(1);
    // The errno code, the frame's kind and a count: nothing of the frame itself.
    expect(events('egress-audit-append-failed')).toEqual([{ time: expect.any(String) as unknown, level: 'error', event: 'egress-audit-append-failed', type: 'credit', code: 'ENOSPC', consecutiveFailures: 1 }]);

    disk.heal();
    expect(gate.send(credit(3))).toBe(true);
    await endOfTick();
    expect(sent).toEqual([credit(1), credit(3)]);
    expect(gate.auditHealthy).toBe(true);
    expect(gate.auditProblem).toBeUndefined();
    expect(gate.auditFailureCount).toBe(1);
    expect(events('egress-audit-append-recovered')).toEqual([expect.objectContaining({ failedAppends: 1 })]);
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 2 });
  });

  it('logs a streak of failures at its 1st, 2nd, 4th and 8th failure, and counts every one', () => {
    disk.fail('writeSync', 'ENOSPC', { times: Infinity });
    for (let i = 0; i < 10; i += 1) expect(gate.send(credit(1))).toBe(false);
    expect(gate.auditFailureCount).toBe(10);
    expect(events('egress-audit-append-failed').map((line) => line['consecutiveFailures'])).toEqual([1, 2, 4, 8]);
  });

  it('neither records nor sends a frame the schema refuses', () => {
    expect(gate.send({ frame: 'credit', credit: { credits: 0 } } as WorkerFrame__Output)).toBe(false);
    expect(gate.refusedCount).toBe(1);
    expect(sent).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(gate.auditHealthy).toBe(true);
  });

  describe('group commit', () => {
    it('fsyncs the active file once for all the frames of a tick, and writes them to the stream only after it', async () => {
      for (let credits = 1; credits <= 5; credits += 1) expect(gate.send(credit(credits))).toBe(true);
      // Recorded and queued: the lines are written, but neither fsync'd nor sent yet.
      expect(linesOnDisk()).toBe(5);
      expect(order).toEqual([]);
      expect(sent).toEqual([]);

      await endOfTick();
      expect(order).toEqual(['fsync', 'write', 'write', 'write', 'write', 'write']);
      expect(sent).toEqual([1, 2, 3, 4, 5].map(credit));
      expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 5 });
    });

    it('takes one fsync per tick: frames of two ticks take two, each tick written after its own', async () => {
      gate.send(credit(1));
      gate.send(credit(2));
      await endOfTick();
      gate.send(credit(3));
      await endOfTick();
      expect(order).toEqual(['fsync', 'write', 'write', 'fsync', 'write']);
      expect(sent).toEqual([credit(1), credit(2), credit(3)]);
    });

    it('sends none of a tick when its fsync fails, cuts the file back to the last durable line, and continues the chain on the next stream', async () => {
      gate.send(credit(1));
      await endOfTick();
      const durable = readFileSync(path);
      // The commit's fsync fails; the one making the cut durable succeeds.
      disk.fail('fsyncSync', 'EIO');
      expect(gate.send(credit(2))).toBe(true);
      expect(gate.send(credit(3))).toBe(true);

      await endOfTick();
      expect(sent).toEqual([credit(1)]);
      // The failed fsync is not listed; the one after it makes the cut durable.
      expect(order).toEqual(['fsync', 'write', 'fsync']);
      expect(readFileSync(path)).toEqual(durable);
      expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 1, lastSeq: 1, unterminatedTail: undefined });
      expect(gate.auditHealthy).toBe(false);
      expect(gate.auditProblem).toBe('EIO');
      expect(gate.auditFailureCount).toBe(2);
      // Once per failed commit: the count and the errno code, nothing of the frames.
      expect(events('egress-audit-commit-failed')).toEqual([{ time: expect.any(String) as unknown, level: 'error', event: 'egress-audit-commit-failed', code: 'EIO', droppedFrames: 2 }]);
      expect(JSON.stringify(logged)).not.toContain('credits');
      // The stream that lost frames takes no more, so the session hangs up on it.
      expect(gate.send(credit(4))).toBe(false);
      expect(linesOnDisk()).toBe(1);

      const next: WorkerFrame__Output[] = [];
      gate.attach({ write: (frame) => next.push(frame) });
      expect(gate.send(credit(5))).toBe(true);
      await endOfTick();
      expect(next).toEqual([credit(5)]);
      expect(gate.auditHealthy).toBe(true);
      expect(events('egress-audit-append-recovered')).toEqual([expect.objectContaining({ failedAppends: 0, droppedFrames: 2 })]);
      expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 2, lastSeq: 2 });
    });

    it('writes frames queued for a stream to that stream when it is replaced or detached, never to the next one', async () => {
      gate.send(credit(1));
      gate.send(credit(2));
      const second: WorkerFrame__Output[] = [];
      gate.attach({ write: (frame) => second.push(frame) });
      expect(sent).toEqual([credit(1), credit(2)]);
      expect(gate.send(credit(3))).toBe(true);
      gate.attach(undefined);
      expect(second).toEqual([credit(3)]);

      await endOfTick();
      expect(sent).toEqual([credit(1), credit(2)]);
      expect(second).toEqual([credit(3)]);
      expect(order.filter((step) => step === 'fsync')).toHaveLength(2);
      expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 3 });
    });

    it('drops what is queued for a stream being replaced when the fsync fails, rather than moving it to the next one', async () => {
      gate.send(credit(1));
      disk.fail('fsyncSync', 'EIO');
      const second: WorkerFrame__Output[] = [];
      gate.attach({ write: (frame) => second.push(frame) });
      expect(gate.send(credit(2))).toBe(true);

      await endOfTick();
      expect(sent).toEqual([]);
      expect(second).toEqual([credit(2)]);
      expect(gate.auditFailureCount).toBe(1);
      expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 1, lastSeq: 1 });
    });

    it('flush() drains at once, with one fsync, leaving nothing for the end of the tick', async () => {
      gate.send(credit(1));
      gate.send(credit(2));
      gate.flush();
      expect(order).toEqual(['fsync', 'write', 'write']);
      expect(sent).toEqual([credit(1), credit(2)]);

      await endOfTick();
      expect(order).toEqual(['fsync', 'write', 'write']);
    });
  });
});
