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

describe('OutboundGate', () => {
  let directory: string;
  let path: string;
  let disk: FaultyFileSystem;
  let audit: EgressAuditLog;
  let logged: Record<string, unknown>[];
  let sent: WorkerFrame__Output[];
  let gate: OutboundGate;
  const events = (name: string) => logged.filter((line) => line['event'] === name);

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-gate-'));
    path = join(directory, 'egress-audit.jsonl');
    disk = new FaultyFileSystem();
    audit = EgressAuditLog.open(path, { fileSystem: disk });
    logged = [];
    sent = [];
    gate = new OutboundGate(audit, new JsonLogger((line) => logged.push(JSON.parse(line) as Record<string, unknown>)));
    gate.attach({ write: (frame) => sent.push(frame) });
  });

  afterEach(() => {
    audit.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('records, then sends', () => {
    expect(gate.send(credit(2))).toBe(true);
    expect(sent).toEqual([credit(2)]);
    expect(readFileSync(path, 'utf8')).toContain('"credits":2');
    expect(gate.auditHealthy).toBe(true);
    expect(gate.auditFailureCount).toBe(0);
  });

  it('does not send, and does not throw, when the audit log cannot record the frame; then recovers', () => {
    gate.send(credit(1));
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
});
