import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateWorkerFrame, type JobResult__Output } from '@airlock/protocol';
import { ResultOutbox } from './result-outbox';

const result = (jobId: string): JobResult__Output => ({
  attempt: { jobId, attempt: 1 },
  outcome: 'JOB_OUTCOME_SUCCEEDED',
  failureCode: 'FAILURE_CODE_UNSPECIFIED',
  failedPhase: 'PHASE_UNSPECIFIED',
  phaseDurations: [{ phase: 'PHASE_INFERENCE', durationMs: 1_200 }],
  tokens: { requests: 4, promptTokens: 321, completionTokens: 54 },
  change: null,
  verification: null,
  contextFiles: 2,
  changeMac: Buffer.alloc(32, 0xab),
  deliveryMac: Buffer.alloc(0),
  policy: null,
  metadataLevel: 'METADATA_LEVEL_STANDARD',
  review: { critical: 0, major: 1, minor: 2, info: 0, dropped: 0 },
  ticketRefMac: Buffer.alloc(32, 0xcd),
  delivery: 'DELIVERY_MERGE_REQUEST_OPENED',
  modelUsage: [
    { endpointIndex: 0, endpoint: 'gpu-box', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 3, promptTokens: 0, completionTokens: 0 },
    { endpointIndex: 1, endpoint: 'cpu-box', model: 'qwen2.5-coder:7b', requests: 1, promptTokens: 321, completionTokens: 54 },
  ],
});

describe('ResultOutbox', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-outbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives back a stored result as it was put, tokens per endpoint included', () => {
    const outbox = new ResultOutbox(dir);
    const stored = result(randomUUID());
    outbox.put(stored);
    expect(outbox.pending()).toEqual([stored]);
  });

  it('gives back a result queued by a worker older than tokens per endpoint, delivery kinds and ticket digests with none, so the outbound gate still passes it', () => {
    const jobId = randomUUID();
    const { modelUsage: _usage, delivery: _delivery, ticketRefMac: _ticket, review: _review, ...older } = result(jobId);
    writeFileSync(join(dir, `${jobId}-1.json`), JSON.stringify({ ...older, changeMac: older.changeMac.toString('hex'), deliveryMac: '' }));
    const [pending] = new ResultOutbox(dir).pending();
    expect(pending).toMatchObject({ modelUsage: [], delivery: 'DELIVERY_UNSPECIFIED', ticketRefMac: Buffer.alloc(0), review: null });
    expect(() => validateWorkerFrame({ frame: 'result', result: pending! })).not.toThrow();
  });
});
