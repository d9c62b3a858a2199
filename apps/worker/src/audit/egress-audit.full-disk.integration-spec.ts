import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerFrame__Output } from '@airlock/protocol';
import { CAN_MOUNT_TMPFS, fillUntilFull, mountSmallTmpfs, type SmallTmpfs } from '@airlock/testing';
import { OutboundGate } from '../gateway/outbound.gate';
import { JsonLogger } from '../logging/json-logger';
import { EgressAuditAppendFailedError } from './egress-audit-append-failed.error';
import { EgressAuditLog } from './egress-audit.log';
import { verifyEgressAuditTrail } from './egress-audit.verifier';

const describeOnTmpfs = CAN_MOUNT_TMPFS ? describe : describe.skip;
const credit = (credits: number) => ({ frame: 'credit', credit: { credits } }) as WorkerFrame__Output;
/** Resolves after the gate's flush of this tick (commit, then the stream), both being setImmediate callbacks. */
const endOfTick = () => new Promise<void>((resolve) => setImmediate(resolve));

describeOnTmpfs(`egress audit log on a real 64 KiB tmpfs${CAN_MOUNT_TMPFS ? '' : ' (skipped: mounting a tmpfs needs root)'}`, () => {
  let tmpfs: SmallTmpfs;
  let directory: string;
  let path: string;
  let logged: Record<string, unknown>[];
  let opened: EgressAuditLog[];
  const logger = () => new JsonLogger((line) => logged.push(JSON.parse(line) as Record<string, unknown>));
  /** Opens a log that afterEach closes even when the test fails, so the tmpfs is not busy at unmount. */
  const openLog = (...args: Parameters<typeof EgressAuditLog.open>) => {
    const log = EgressAuditLog.open(...args);
    opened.push(log);
    return log;
  };

  beforeAll(() => {
    tmpfs = mountSmallTmpfs('64k');
  });

  afterAll(() => {
    tmpfs.unmount();
  });

  beforeEach(() => {
    directory = join(tmpfs.path, `case-${Date.now()}-${Math.random().toString(16).slice(2)}`);
    mkdirSync(directory);
    path = join(directory, 'egress-audit.jsonl');
    logged = [];
    opened = [];
  });

  afterEach(() => {
    for (const log of opened) log.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('on ENOSPC leaves the file unchanged and the gate unhealthy without throwing; once space is freed both recover', async () => {
    const audit = openLog(path, { logger: logger() });
    const gate = new OutboundGate(audit, logger());
    const sent: WorkerFrame__Output[] = [];
    gate.attach({ write: (frame) => sent.push(frame) });
    for (let i = 1; i <= 3; i += 1) expect(gate.send(credit(i))).toBe(true);
    await endOfTick();
    expect(sent).toHaveLength(3);

    const filler = join(directory, 'filler');
    fillUntilFull(filler);
    // The log's last page may still have room for a line or two; the disk refuses soon after.
    let before = readFileSync(path);
    let refused = false;
    for (let attempt = 0; attempt < 64 && !refused; attempt += 1) {
      before = readFileSync(path);
      refused = !gate.send(credit(1 + (attempt % 60)));
    }
    expect(refused).toBe(true);
    expect(readFileSync(path)).toEqual(before);
    // The lines written before the refusal are committed and their frames sent; the log stays unhealthy.
    await endOfTick();
    expect(readFileSync(path)).toEqual(before);
    expect(gate.auditHealthy).toBe(false);
    expect(gate.auditProblem).toBe('ENOSPC');
    expect(gate.auditFailureCount).toBe(1);
    expect(logged.filter((line) => line['event'] === 'egress-audit-append-failed')).toEqual([expect.objectContaining({ type: 'credit', code: 'ENOSPC' })]);
    const recorded = sent.length;
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: recorded, unterminatedTail: undefined });

    // The log itself: the append throws its own error and leaves the bytes alone.
    expect(() => audit.append('credit', credit(5))).toThrow(EgressAuditAppendFailedError);
    expect(readFileSync(path)).toEqual(before);

    rmSync(filler);
    expect(gate.send(credit(7))).toBe(true);
    await endOfTick();
    expect(gate.auditHealthy).toBe(true);
    expect(gate.auditProblem).toBeUndefined();
    expect(sent).toHaveLength(recorded + 1);
    audit.close();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: recorded + 1, lastSeq: recorded + 1 });
  });

  it('opens with a torn tail on a full disk, unhealthy instead of dead, and moves the tail aside once space is back', async () => {
    const seed = openLog(path);
    for (let i = 1; i <= 3; i += 1) seed.append('credit', credit(i));
    seed.close();
    appendFileSync(path, '{"seq":4,"time":"2026-');
    const filler = join(directory, 'filler');
    fillUntilFull(filler);

    const audit = openLog(path, { logger: logger(), now: () => 1_700_000_000_000 });
    expect(audit.healthy).toBe(false);
    expect(audit.problem).toBe('ENOSPC');
    const gate = new OutboundGate(audit, logger());
    gate.attach({ write: () => undefined });
    expect(gate.send(credit(4))).toBe(false);
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 3, unterminatedTail: { file: path, bytes: 22 }, quarantined: [] });

    rmSync(filler);
    expect(gate.send(credit(4))).toBe(true);
    await endOfTick();
    expect(gate.auditHealthy).toBe(true);
    const quarantined = join(directory, 'egress-audit.torn-seq4-1700000000000.part');
    expect(audit.quarantinedTail).toEqual({ file: quarantined, bytes: 22 });
    audit.close();
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 4, unterminatedTail: undefined, quarantined: [{ file: quarantined, bytes: 22 }] });
  });
});
