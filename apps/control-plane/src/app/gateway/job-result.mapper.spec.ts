import { randomUUID } from 'node:crypto';
import { loadAirlockV1, validateWorkerFrame, type JobResult, type WorkerFrame__Output } from '@airlock/protocol';
import { toJobResultMetadata } from './job-result.mapper';

/** A result as a worker sends it: serialised to protobuf bytes and decoded, as the gateway receives it. */
function received(result: JobResult): NonNullable<WorkerFrame__Output['result']> {
  const WorkerFrame = loadAirlockV1().WorkerFrame;
  const frame = WorkerFrame.deserialize(WorkerFrame.serialize({ result })) as WorkerFrame__Output;
  validateWorkerFrame(frame);
  return frame.result!;
}

const succeeded = (): JobResult => ({
  attempt: { jobId: randomUUID(), attempt: 1 },
  outcome: 'JOB_OUTCOME_SUCCEEDED',
  tokens: { requests: 5, promptTokens: 900, completionTokens: 120 },
  metadataLevel: 'METADATA_LEVEL_STANDARD',
});

describe('toJobResultMetadata: tokens per endpoint and model', () => {
  it('stores each endpoint with its configured index, names and figures, in the order the worker sent', () => {
    const stored = toJobResultMetadata(
      received({
        ...succeeded(),
        modelUsage: [
          { endpointIndex: 0, endpoint: 'gpu-box', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 3 },
          { endpointIndex: 1, endpoint: 'cpu-box', model: 'qwen2.5-coder:7b', requests: 2, promptTokens: 900, completionTokens: 120 },
        ],
      }),
    );
    expect(stored.modelUsage).toEqual([
      { endpointIndex: 0, endpoint: 'gpu-box', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 3, promptTokens: 0, completionTokens: 0 },
      { endpointIndex: 1, endpoint: 'cpu-box', model: 'qwen2.5-coder:7b', requests: 2, promptTokens: 900, completionTokens: 120 },
    ]);
    expect(stored.tokens).toEqual({ requests: 5, promptTokens: 900, completionTokens: 120 });
  });

  it('stores none for a worker older than the field, and none at the minimal level', () => {
    expect(toJobResultMetadata(received(succeeded())).modelUsage).toEqual([]);
    const minimal = received({ attempt: { jobId: randomUUID(), attempt: 1 }, outcome: 'JOB_OUTCOME_SUCCEEDED', metadataLevel: 'METADATA_LEVEL_MINIMAL' });
    expect(toJobResultMetadata(minimal)).toMatchObject({ metadataLevel: 'METADATA_LEVEL_MINIMAL', modelUsage: [], tokens: { requests: 0, promptTokens: 0, completionTokens: 0 } });
  });
});

describe('toJobResultMetadata: where the change went', () => {
  it.each([
    ['DELIVERY_BRANCH', 'BRANCH'],
    ['DELIVERY_MERGE_REQUEST_OPENED', 'MERGE_REQUEST_OPENED'],
    ['DELIVERY_MERGE_REQUEST_UPDATED', 'MERGE_REQUEST_UPDATED'],
    ['DELIVERY_OUTBOX', 'OUTBOX'],
  ] as const)('stores %s as %s', (delivery, stored) => {
    expect(toJobResultMetadata(received({ ...succeeded(), delivery })).delivery).toBe(stored);
  });

  it('stores null when nothing was delivered, from a worker older than the field, and at the minimal level', () => {
    expect(toJobResultMetadata(received(succeeded())).delivery).toBeNull();
    const minimal = received({ attempt: { jobId: randomUUID(), attempt: 1 }, outcome: 'JOB_OUTCOME_FAILED', failureCode: 'FORGE_UNAVAILABLE', metadataLevel: 'METADATA_LEVEL_MINIMAL' });
    expect(toJobResultMetadata(minimal)).toMatchObject({ failureCode: 'FORGE_UNAVAILABLE', delivery: null });
  });
});

describe('toJobResultMetadata: the ticket reference digest', () => {
  it('stores the 32 bytes as lowercase hex, and null when the worker sent none', () => {
    const digest = Buffer.alloc(32, 0xab);
    expect(toJobResultMetadata(received({ ...succeeded(), ticketRefMac: digest })).ticketRefMac).toBe('ab'.repeat(32));
    expect(toJobResultMetadata(received(succeeded())).ticketRefMac).toBeNull();
  });
});

describe('toJobResultMetadata: review counts', () => {
  it('stores the comments of a review by severity, and those not posted', () => {
    const review = { critical: 1, major: 3, minor: 7, info: 2, dropped: 4 };
    const stored = toJobResultMetadata(received({ ...succeeded(), review }));
    expect(stored.review).toEqual(review);
    // A review posts comments and changes nothing: no change, no test run, no delivery.
    expect(stored).toMatchObject({ change: { filesChanged: 0, linesAdded: 0 }, verification: { testsRan: false }, delivery: null, deliveryMac: null });
  });

  it('stores the counts as the worker bucketed them, zeros included', () => {
    const review = { critical: 0, major: 2, minor: 8, info: 0, dropped: 0 };
    expect(toJobResultMetadata(received({ ...succeeded(), tokens: { requests: 4, promptTokens: 512, completionTokens: 128 }, review, metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED' })).review).toEqual(review);
  });

  it('stores null for another task, a worker older than the field, and at the minimal level', () => {
    expect(toJobResultMetadata(received(succeeded())).review).toBeNull();
    const minimal = received({ attempt: { jobId: randomUUID(), attempt: 1 }, outcome: 'JOB_OUTCOME_FAILED', failureCode: 'REVIEW_TARGET_NOT_FOUND', metadataLevel: 'METADATA_LEVEL_MINIMAL' });
    expect(toJobResultMetadata(minimal)).toMatchObject({ failureCode: 'REVIEW_TARGET_NOT_FOUND', review: null });
  });
});
