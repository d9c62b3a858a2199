import { randomBytes, randomUUID } from 'node:crypto';
import { instructionHeader } from '@airlock/testing';
import {
  FrameValidationError,
  decodeInstructionPayload,
  encodeInstructionPayload,
  loadAirlockV1,
  validateControlFrame,
  validateInstructionPayload,
  validateWorkerFrame,
  type WorkerFrame__Output,
} from './index';

const fixPayload = () => ({
  ...instructionHeader(),
  fix: { repoAlias: 'payments-api', baseRef: 'main', ticket: { title: 'Fix rounding', description: 'Totals are off by one cent.' } },
});

function violationOf(action: () => void): { field: string; expected: string } {
  try {
    action();
  } catch (error) {
    if (error instanceof FrameValidationError) return { ...error.violation };
    throw error;
  }
  throw new Error('expected a FrameValidationError');
}

describe('instruction payload codec', () => {
  it('round-trips a fix task byte for byte', () => {
    const payload = fixPayload();
    const bytes = encodeInstructionPayload(payload);
    const decoded = decodeInstructionPayload(bytes);
    expect(decoded).toMatchObject({ ...payload, task: 'fix' });
    expect(encodeInstructionPayload(decoded)).toEqual(bytes);
    expect(() => validateInstructionPayload(decoded)).not.toThrow();
  });

  it('refuses bytes that are not a payload', () => {
    expect(() => decodeInstructionPayload(Buffer.from([0xff, 0xff, 0xff]))).toThrow(/does not decode/);
  });

  it('names the field of a malformed ticket', () => {
    const payload = decodeInstructionPayload(
      encodeInstructionPayload({ ...fixPayload(), fix: { repoAlias: 'ok', baseRef: 'main', ticket: { title: 'two\nlines', description: '' } } }),
    );
    expect(violationOf(() => validateInstructionPayload(payload)).field).toBe('payload.fix.ticket.title');
  });

  it('refuses a base ref that could be read as an option', () => {
    const payload = decodeInstructionPayload(
      encodeInstructionPayload({ ...fixPayload(), fix: { repoAlias: 'ok', baseRef: '--upload-pack=x', ticket: { title: 't', description: '' } } }),
    );
    expect(violationOf(() => validateInstructionPayload(payload)).field).toBe('payload.fix.baseRef');
  });
});

describe('frame validation', () => {
  const VERIFIED = {
    testsRan: true, testExitCode: 0, baseTestsRan: true, baseTestExitCode: 1, baseReportRead: true, reportRead: true,
    testsBefore: 10, failingBefore: 2, testsAfter: 11, failingAfter: 0, testsFixed: 2, testsRegressed: 0, agentTestRuns: 1, reproductionAdded: false,
  };
  const result = (overrides: Partial<NonNullable<WorkerFrame__Output['result']>>): WorkerFrame__Output => ({
    frame: 'result',
    result: {
      attempt: { jobId: randomUUID(), attempt: 1 },
      outcome: 'JOB_OUTCOME_SUCCEEDED',
      failureCode: 'FAILURE_CODE_UNSPECIFIED',
      failedPhase: 'PHASE_UNSPECIFIED',
      phaseDurations: [{ phase: 'PHASE_TEST', durationMs: 12 }],
      tokens: { requests: 1, promptTokens: 10, completionTokens: 5 },
      change: { filesChanged: 1, linesAdded: 1, linesRemoved: 1, editsProposed: 1, editsApplied: 1 },
      verification: VERIFIED,
      contextFiles: 2,
      changeMac: randomBytes(32),
      deliveryMac: randomBytes(32),
      policy: null,
      metadataLevel: 'METADATA_LEVEL_STANDARD',
      ...overrides,
    },
  });

  it('accepts a well-formed result', () => {
    expect(() => validateWorkerFrame(result({}))).not.toThrow();
  });

  it('refuses a failed result without a failure code', () => {
    expect(violationOf(() => validateWorkerFrame(result({ outcome: 'JOB_OUTCOME_FAILED' })))).toEqual({
      field: 'result.failureCode',
      expected: 'a known FailureCode for a job that did not succeed',
    });
  });

  it.each([
    ['an exit code past a byte', { baseTestExitCode: 256 }, 'result.verification.baseTestExitCode'],
    ['more failing tests than tests', { failingBefore: 11 }, 'result.verification.failingBefore'],
    ['more fixed tests than were failing', { testsFixed: 3 }, 'result.verification.testsFixed'],
    ['more regressions than failing tests after', { testsRegressed: 1 }, 'result.verification.testsRegressed'],
  ])('refuses verification counts that contradict each other: %s', (_what, counts, field) => {
    expect(violationOf(() => validateWorkerFrame(result({ verification: { ...VERIFIED, ...counts } }))).field).toBe(field);
  });

  it('refuses a MAC of the wrong length', () => {
    expect(violationOf(() => validateWorkerFrame(result({ changeMac: randomBytes(5) }))).field).toBe('result.changeMac');
  });

  it('refuses a rejection with a non-rejection code', () => {
    const frame: WorkerFrame__Output = { frame: 'rejected', rejected: { attempt: null, failureCode: 'TESTS_FAILED', rules: [] } };
    expect(violationOf(() => validateWorkerFrame(frame)).field).toBe('rejected.failureCode');
  });

  it('refuses a frame carrying a second oneof member beside the one it names', () => {
    const smuggling = { frame: 'credit', credit: { credits: 1 }, hello: { workerId: 'password=hunter2' } } as unknown as WorkerFrame__Output;
    expect(violationOf(() => validateWorkerFrame(smuggling))).toEqual({ field: 'hello', expected: 'absent: the frame is a credit' });
  });

  it('refuses an instruction with a short signature', () => {
    expect(
      violationOf(() => validateControlFrame({ frame: 'instruction', instruction: { payload: Buffer.from([1]), signature: Buffer.alloc(3), keyId: 'sk_0123456789abcdef' } })).field,
    ).toBe('instruction.signature');
  });

  it('accepts the refusals that say nothing against the job', () => {
    for (const failureCode of ['WORKER_AT_CAPACITY', 'ATTEMPT_ALREADY_SEEN'] as const) {
      expect(() => validateWorkerFrame({ frame: 'rejected', rejected: { attempt: { jobId: randomUUID(), attempt: 1 }, failureCode, rules: [] } })).not.toThrow();
    }
  });

  it('refuses a heartbeat without a sequence number, since its lease renewal could not be matched to it', () => {
    const frame: WorkerFrame__Output = { frame: 'heartbeat', heartbeat: { running: [], freeSlots: 1, seq: 0 } };
    expect(violationOf(() => validateWorkerFrame(frame)).field).toBe('heartbeat.seq');
    expect(() => validateWorkerFrame({ frame: 'heartbeat', heartbeat: { running: [], freeSlots: 1, seq: 1 } })).not.toThrow();
  });

  it('checks every attempt a lease renewal names', () => {
    const renewal = (jobId: string) => ({ frame: 'leaseRenewal' as const, leaseRenewal: { heartbeatSeq: 0, renewed: [{ jobId, attempt: 1 }] } });
    expect(() => validateControlFrame(renewal(randomUUID()))).not.toThrow();
    expect(violationOf(() => validateControlFrame(renewal('not-a-uuid'))).field).toBe('leaseRenewal.renewed[0].jobId');
  });

  it('loads the service with both RPCs', () => {
    const service = loadAirlockV1().WorkerGateway.service;
    expect(Object.keys(service).sort()).toEqual(['Connect', 'Enroll']);
  });
});
