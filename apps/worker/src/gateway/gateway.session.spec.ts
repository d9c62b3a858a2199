import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerFrame__Output } from '@airlock/protocol';
import { EgressAuditLog } from '../audit/egress-audit.log';
import { FakeControlStream } from '../daemon/fake-gateway.mock';
import { JsonLogger } from '../logging/json-logger';
import { GatewaySession, type SessionHandlers } from './gateway.session';
import { OutboundGate } from './outbound.gate';

const credit = (credits: number) => ({ frame: 'credit', credit: { credits } }) as WorkerFrame__Output;
const quiet = new JsonLogger(() => undefined);
const handlers: SessionHandlers = {
  hello: () => {
    throw new Error('no challenge is sent in these tests');
  },
  welcomed: () => undefined,
  frame: () => undefined,
  malformedInstruction: () => undefined,
  malformedPolicyBundle: () => undefined,
  failed: (error) => {
    throw error;
  },
};
const timers = { after: () => ({ cancel: () => undefined }) };

describe('GatewaySession with the outbound gate', () => {
  let directory: string;
  let audit: EgressAuditLog;
  let gate: OutboundGate;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-session-'));
    audit = EgressAuditLog.open(join(directory, 'egress-audit.jsonl'));
    gate = new OutboundGate(audit, quiet);
  });

  afterEach(() => {
    audit.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('hands the frames the gate still queues to the stream before half-closing it', async () => {
    const writes: string[] = [];
    const stream = new FakeControlStream((_frame, on) => writes.push(on.endedByWorker ? 'after end' : 'before end'));
    const session = new GatewaySession(() => stream, gate, handlers, quiet, timers);
    expect(gate.send(credit(1))).toBe(true);
    expect(gate.send(credit(2))).toBe(true);

    session.close();
    expect(stream.written).toEqual([credit(1), credit(2)]);
    expect(writes).toEqual(['before end', 'before end']);
    expect(stream.endedByWorker).toBe(true);
    await expect(session.done).resolves.toMatchObject({ reason: 'ended' });
  });
});
