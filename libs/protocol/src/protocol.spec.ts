import { randomBytes, randomUUID } from 'node:crypto';
import { instructionHeader } from '@airlock/testing';
import {
  FrameValidationError,
  WIRE_LIMITS,
  decodeInstructionPayload,
  decodePolicyBundlePayload,
  encodeInstructionPayload,
  encodePolicyBundlePayload,
  loadAirlockV1,
  validateControlFrame,
  validateInstructionPayload,
  validatePolicyBundlePayload,
  validateWorkerFrame,
  VersionStatus,
  workerGatewayServiceDefinition,
  type ControlFrame__Output,
  type PolicyAck__Output,
  type VersionNotice__Output,
  type PolicyBundlePayload__Output,
  type WorkerFrame__Output,
} from './index';

const fixPayload = () => ({
  ...instructionHeader(),
  fix: {
    repoAlias: 'payments-api',
    baseRef: 'main',
    ticket: { title: 'Fix rounding', description: 'Totals are off by one cent.' },
    deliveryJobId: '0b6f6a4e-5d3c-4f0e-9a57-1c2d3e4f5a6b',
    deliveryGeneration: 2,
    ticketRef: '',
  },
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

  it('names a malformed delivery chain', () => {
    const withChain = (deliveryJobId: string, deliveryGeneration: number) =>
      decodeInstructionPayload(encodeInstructionPayload({ ...fixPayload(), fix: { ...fixPayload().fix, deliveryJobId, deliveryGeneration } }));
    expect(() => validateInstructionPayload(withChain('', 0))).not.toThrow();
    expect(violationOf(() => validateInstructionPayload(withChain('../main', 0))).field).toBe('payload.fix.deliveryJobId');
    expect(violationOf(() => validateInstructionPayload(withChain('0b6f6a4e-5d3c-4f0e-9a57-1c2d3e4f5a6b', 1001))).field).toBe('payload.fix.deliveryGeneration');
  });

  it('takes a ticket by reference only without ticket text, and names a malformed reference', () => {
    const byReference = (ticketRef: string, ticket: { title: string; description: string }) =>
      decodeInstructionPayload(encodeInstructionPayload({ ...fixPayload(), fix: { ...fixPayload().fix, ticketRef, ticket } }));
    const noText = { title: '', description: '' };
    expect(() => validateInstructionPayload(byReference('jira:PROJ-123', noText))).not.toThrow();
    expect(() => validateInstructionPayload(byReference('gitlab-issues:group/app#42', noText))).not.toThrow();
    expect(violationOf(() => validateInstructionPayload(byReference('jira:PROJ-123', { title: 'Fix it', description: '' }))).field).toBe('payload.fix.ticket');
    for (const malformed of ['PROJ-123', 'Jira:PROJ-1', 'jira:', 'jira:-x', 'jira:PROJ 1', `jira:${'A'.repeat(129)}`]) {
      expect(violationOf(() => validateInstructionPayload(byReference(malformed, noText))).field).toBe('payload.fix.ticketRef');
    }
    // Without a reference the title is required, as before.
    expect(violationOf(() => validateInstructionPayload(byReference('', noText))).field).toBe('payload.fix.ticket.title');
  });

  it('checks a review task by target and an index task by ref', () => {
    const header = () => {
      const { fix: _fix, ...rest } = fixPayload();
      return rest;
    };
    const decoded = (payload: Parameters<typeof encodeInstructionPayload>[0]) => decodeInstructionPayload(encodeInstructionPayload(payload));
    expect(() => validateInstructionPayload(decoded({ ...header(), review: { repoAlias: 'payments-api', mergeRequest: 42 } }))).not.toThrow();
    expect(() => validateInstructionPayload(decoded({ ...header(), review: { repoAlias: 'payments-api', branch: 'feature/rounding' } }))).not.toThrow();
    expect(violationOf(() => validateInstructionPayload(decoded({ ...header(), review: { repoAlias: 'payments-api' } }))).field).toBe('payload.review.target');
    expect(violationOf(() => validateInstructionPayload(decoded({ ...header(), review: { repoAlias: 'payments-api', branch: '--upload-pack=x' } }))).field).toBe('payload.review.branch');
    expect(violationOf(() => validateInstructionPayload(decoded({ ...header(), review: { repoAlias: 'Payments', mergeRequest: 1 } }))).field).toBe('payload.review.repoAlias');
    expect(violationOf(() => validateInstructionPayload(decoded({ ...header(), review: { repoAlias: 'payments-api', mergeRequest: 2 ** 31 } }))).field).toBe('payload.review.mergeRequest');
    expect(() => validateInstructionPayload(decoded({ ...header(), index: { repoAlias: 'payments-api', ref: 'main' } }))).not.toThrow();
    expect(violationOf(() => validateInstructionPayload(decoded({ ...header(), index: { repoAlias: 'payments-api', ref: '../etc' } }))).field).toBe('payload.index.ref');
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
      review: null,
      ticketRefMac: Buffer.alloc(0),
      delivery: 'DELIVERY_BRANCH',
      modelUsage: [{ endpointIndex: 0, endpoint: 'local', model: 'qwen2.5-coder:7b', requests: 1, promptTokens: 10, completionTokens: 5 }],
      ...overrides,
    },
  });

  it('accepts a well-formed result', () => {
    expect(() => validateWorkerFrame(result({}))).not.toThrow();
  });

  it('refuses a figure past 32 bits, or negative, which the wire would carry modulo 2^32 (found by fuzzing)', () => {
    const change = { filesChanged: 1, linesAdded: 2 ** 32, linesRemoved: 1, editsProposed: 1, editsApplied: 1 };
    expect(violationOf(() => validateWorkerFrame(result({ change })))).toEqual({ field: 'result.change.linesAdded', expected: `an integer in 0..${2 ** 32 - 1}` });
    expect(violationOf(() => validateWorkerFrame(result({ phaseDurations: [{ phase: 'PHASE_TEST', durationMs: -1 }] }))).field).toBe('result.phaseDurations[0].durationMs');
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

  const noLedger = { ledgerSeq: 0, ledgerHead: Buffer.alloc(0) };

  it('refuses a heartbeat without a sequence number, since its lease renewal could not be matched to it', () => {
    const frame: WorkerFrame__Output = { frame: 'heartbeat', heartbeat: { running: [], freeSlots: 1, seq: 0, ...noLedger } };
    expect(violationOf(() => validateWorkerFrame(frame)).field).toBe('heartbeat.seq');
    expect(() => validateWorkerFrame({ frame: 'heartbeat', heartbeat: { running: [], freeSlots: 1, seq: 1, ...noLedger } })).not.toThrow();
  });

  it("takes a heartbeat's egress-log head only as a line number with its 32-byte hash, or neither", () => {
    const heartbeat = (ledgerSeq: number, ledgerHead: Buffer): WorkerFrame__Output => ({ frame: 'heartbeat', heartbeat: { running: [], freeSlots: 1, seq: 1, ledgerSeq, ledgerHead } });
    expect(() => validateWorkerFrame(heartbeat(41, Buffer.alloc(32, 9)))).not.toThrow();
    expect(violationOf(() => validateWorkerFrame(heartbeat(41, Buffer.alloc(0)))).field).toBe('heartbeat.ledgerHead');
    expect(violationOf(() => validateWorkerFrame(heartbeat(41, Buffer.alloc(33)))).field).toBe('heartbeat.ledgerHead');
    expect(violationOf(() => validateWorkerFrame(heartbeat(0, Buffer.alloc(32)))).field).toBe('heartbeat.ledgerHead');
    expect(violationOf(() => validateWorkerFrame(heartbeat(-1, Buffer.alloc(32)))).field).toBe('heartbeat.ledgerSeq');
    expect(violationOf(() => validateWorkerFrame(heartbeat(2 ** 53, Buffer.alloc(32)))).field).toBe('heartbeat.ledgerSeq');
  });

  it('checks every attempt a lease renewal names', () => {
    const renewal = (jobId: string) => ({ frame: 'leaseRenewal' as const, leaseRenewal: { heartbeatSeq: 0, renewed: [{ jobId, attempt: 1 }], signature: null } });
    expect(() => validateControlFrame(renewal(randomUUID()))).not.toThrow();
    expect(violationOf(() => validateControlFrame(renewal('not-a-uuid'))).field).toBe('leaseRenewal.renewed[0].jobId');
  });

  it('loads the service with both RPCs', () => {
    const service = loadAirlockV1().WorkerGateway.service;
    expect(Object.keys(service).sort()).toEqual(['Connect', 'Enroll']);
  });

  it('accepts a result with no policy report at the standard level, as workers send today', () => {
    expect(() => validateWorkerFrame(result({ policy: null, metadataLevel: 'METADATA_LEVEL_STANDARD' }))).not.toThrow();
  });
});

describe('policy bundle payload', () => {
  const bundlePayload = (): PolicyBundlePayload__Output => ({
    tenantId: randomUUID(),
    audience: randomUUID(),
    revision: 3,
    issuedAtMs: 1_700_000_000_000,
    expiresAtMs: 1_700_000_600_000,
    layersJson: JSON.stringify({ layers: [] }),
  });

  it('round-trips byte for byte and validates', () => {
    const payload = bundlePayload();
    const bytes = encodePolicyBundlePayload(payload);
    const decoded = decodePolicyBundlePayload(bytes);
    expect(decoded).toEqual(payload);
    expect(encodePolicyBundlePayload(decoded)).toEqual(bytes);
    expect(() => validatePolicyBundlePayload(decoded)).not.toThrow();
  });

  it('refuses more bytes than a bundle payload may hold before decoding them', () => {
    expect(() => decodePolicyBundlePayload(Buffer.alloc(WIRE_LIMITS.maxPolicyBundlePayloadBytes + 1))).toThrow(/at most 196608 allowed/);
    expect(() => decodePolicyBundlePayload(Buffer.from([0xff, 0xff, 0xff]))).toThrow(/does not decode/);
  });

  it.each([
    ['a revision of 0', { revision: 0 }, 'bundle.revision'],
    ['a revision past 2^31-1', { revision: 2 ** 31 }, 'bundle.revision'],
    ['an audience that is no UUID', { audience: 'worker-1' }, 'bundle.audience'],
    ['a tenant that is no UUID', { tenantId: '' }, 'bundle.tenantId'],
    ['an expiry before the issue', { expiresAtMs: 1_600_000_000_000 }, 'bundle.expiresAtMs'],
    ['no issue time', { issuedAtMs: 0 }, 'bundle.issuedAtMs'],
    ['layers past 160 KiB', { layersJson: 'é'.repeat(WIRE_LIMITS.maxPolicyLayersJsonBytes / 2 + 1) }, 'bundle.layersJson'],
  ])('refuses %s', (_what, override, field) => {
    expect(violationOf(() => validatePolicyBundlePayload({ ...bundlePayload(), ...override })).field).toBe(field);
  });

  it('fits the largest bundle in the largest downstream frame', () => {
    const largest = encodePolicyBundlePayload({ ...bundlePayload(), layersJson: 'x'.repeat(WIRE_LIMITS.maxPolicyLayersJsonBytes) });
    expect(largest.length).toBeLessThanOrEqual(WIRE_LIMITS.maxPolicyBundlePayloadBytes);
    const frame = loadAirlockV1().ControlFrame.serialize({ policyBundle: { payload: Buffer.alloc(WIRE_LIMITS.maxPolicyBundlePayloadBytes), signature: Buffer.alloc(64), keyId: 'sk_0123456789abcdef' } });
    expect(frame.length).toBeLessThanOrEqual(WIRE_LIMITS.maxDownstreamMessageBytes);
  });
});

describe('policy frames', () => {
  const bundleFrame = (override: { payload?: Buffer; signature?: Buffer; keyId?: string }) => ({
    frame: 'policyBundle' as const,
    policyBundle: { payload: Buffer.from([1]), signature: Buffer.alloc(64), keyId: 'sk_0123456789abcdef', ...override },
  });

  it('checks a pushed bundle envelope', () => {
    expect(() => validateControlFrame(bundleFrame({}))).not.toThrow();
    expect(violationOf(() => validateControlFrame(bundleFrame({ payload: Buffer.alloc(0) }))).field).toBe('policyBundle.payload');
    expect(violationOf(() => validateControlFrame(bundleFrame({ payload: Buffer.alloc(WIRE_LIMITS.maxPolicyBundlePayloadBytes + 1) }))).field).toBe('policyBundle.payload');
    expect(violationOf(() => validateControlFrame(bundleFrame({ signature: Buffer.alloc(63) }))).field).toBe('policyBundle.signature');
    expect(violationOf(() => validateControlFrame(bundleFrame({ keyId: 'sk_XYZ' }))).field).toBe('policyBundle.keyId');
  });

  const ack = (override: Partial<PolicyAck__Output>): WorkerFrame__Output => ({
    frame: 'policyAck',
    policyAck: { revision: 4, status: 'POLICY_ACK_STATUS_APPLIED', failureCode: 'FAILURE_CODE_UNSPECIFIED', narrowed: [], ...override },
  });

  it('accepts an applied bundle with the rules local policy narrowed, and a refusal with its code', () => {
    expect(() => validateWorkerFrame(ack({ narrowed: ['RULE_REPOSITORIES', 'RULE_PROTECTED_PATHS'] }))).not.toThrow();
    expect(() => validateWorkerFrame(ack({ status: 'POLICY_ACK_STATUS_REFUSED', failureCode: 'POLICY_BUNDLE_STALE' }))).not.toThrow();
    expect(() => validateWorkerFrame(ack({ revision: 0, status: 'POLICY_ACK_STATUS_REFUSED', failureCode: 'POLICY_BUNDLE_MALFORMED' }))).not.toThrow();
  });

  it.each([
    ['no status', { status: 'POLICY_ACK_STATUS_UNSPECIFIED' as const }, 'policyAck.status'],
    ['a refusal with an instruction code', { status: 'POLICY_ACK_STATUS_REFUSED' as const, failureCode: 'INSTRUCTION_EXPIRED' as const }, 'policyAck.failureCode'],
    ['a refusal without a code', { status: 'POLICY_ACK_STATUS_REFUSED' as const }, 'policyAck.failureCode'],
    ['a refusal that names narrowed rules', { status: 'POLICY_ACK_STATUS_REFUSED' as const, failureCode: 'POLICY_BUNDLE_STALE' as const, narrowed: ['RULE_SECRETS' as const] }, 'policyAck.narrowed'],
    ['an applied bundle with a failure code', { failureCode: 'POLICY_BUNDLE_STALE' as const }, 'policyAck.failureCode'],
    ['an applied revision 0', { revision: 0 }, 'policyAck.revision'],
    ['a revision past 2^31-1', { revision: 2 ** 31 }, 'policyAck.revision'],
    ['an unspecified rule', { narrowed: ['POLICY_RULE_UNSPECIFIED' as const] }, 'policyAck.narrowed[0]'],
    ['an unknown rule', { narrowed: ['RULE_BOGUS' as never] }, 'policyAck.narrowed[0]'],
    ['a rule twice', { narrowed: ['RULE_SECRETS' as const, 'RULE_SECRETS' as const] }, 'policyAck.narrowed'],
    ['more than 32 rules', { narrowed: Array.from({ length: 33 }, () => 'RULE_SECRETS' as const) }, 'policyAck.narrowed'],
  ])('refuses an ack with %s', (_what, override, field) => {
    expect(violationOf(() => validateWorkerFrame(ack(override))).field).toBe(field);
  });

  const hello = (override: { labels?: string[]; policyRevision?: number }): WorkerFrame__Output => ({
    frame: 'hello',
    hello: {
      workerId: randomUUID(),
      challengeSignature: Buffer.alloc(64),
      workerVersion: '1.2.3',
      capacity: 2,
      running: [],
      localPolicyDigest: Buffer.alloc(32),
      labels: ['gpu', 'eu-west.1'],
      policyRevision: 7,
      ...override,
    },
  });

  it('checks the pools and policy revision a hello names', () => {
    expect(() => validateWorkerFrame(hello({}))).not.toThrow();
    expect(() => validateWorkerFrame(hello({ labels: [], policyRevision: 0 }))).not.toThrow();
    expect(violationOf(() => validateWorkerFrame(hello({ labels: ['GPU'] }))).field).toBe('hello.labels[0]');
    expect(violationOf(() => validateWorkerFrame(hello({ labels: ['ok', 'secret project'] }))).field).toBe('hello.labels[1]');
    expect(violationOf(() => validateWorkerFrame(hello({ labels: ['a', 'a'] }))).field).toBe('hello.labels');
    expect(violationOf(() => validateWorkerFrame(hello({ labels: Array.from({ length: 17 }, (_, i) => `pool-${i}`) }))).field).toBe('hello.labels');
    expect(violationOf(() => validateWorkerFrame(hello({ policyRevision: 2 ** 31 }))).field).toBe('hello.policyRevision');
  });

  const rejected = (failureCode: 'TASK_FORBIDDEN_BY_POLICY' | 'REPO_ALIAS_UNKNOWN', rules: string[]): WorkerFrame__Output =>
    ({ frame: 'rejected', rejected: { attempt: { jobId: randomUUID(), attempt: 1 }, failureCode, rules } }) as WorkerFrame__Output;

  it('names rules in a rejection only when policy forbade the task', () => {
    expect(() => validateWorkerFrame(rejected('TASK_FORBIDDEN_BY_POLICY', ['RULE_REPOSITORIES', 'RULE_BASE_REFS']))).not.toThrow();
    expect(() => validateWorkerFrame(rejected('TASK_FORBIDDEN_BY_POLICY', []))).not.toThrow();
    expect(violationOf(() => validateWorkerFrame(rejected('REPO_ALIAS_UNKNOWN', ['RULE_REPOSITORIES']))).field).toBe('rejected.rules');
    expect(violationOf(() => validateWorkerFrame(rejected('TASK_FORBIDDEN_BY_POLICY', ['RULE_JOB_KINDS', 'RULE_REPOSITORIES', 'RULE_BASE_REFS', 'RULE_SECRETS', 'RULE_METADATA_LEVEL']))).field).toBe('rejected.rules');
    expect(violationOf(() => validateWorkerFrame(rejected('TASK_FORBIDDEN_BY_POLICY', ['POLICY_RULE_UNSPECIFIED']))).field).toBe('rejected.rules[0]');
  });
});

describe('delivery outcome', () => {
  type Outcome = NonNullable<WorkerFrame__Output['deliveryOutcome']>;
  const merged = (): Outcome => ({
    deliveryJobId: randomUUID(),
    state: 'MERGE_REQUEST_STATE_MERGED',
    humanCommits: 3,
    reverted: true,
    firstReviewAfterS: 5_400,
    reviewRounds: 2,
    mergedAfterS: 90_061,
    final: false,
    metadataLevel: 'METADATA_LEVEL_STANDARD',
  });
  const frame = (deliveryOutcome: Outcome): WorkerFrame__Output => ({ frame: 'deliveryOutcome', deliveryOutcome });

  it('accepts states, counts and durations that agree with each other', () => {
    expect(() => validateWorkerFrame(frame(merged()))).not.toThrow();
    expect(() => validateWorkerFrame(frame({ ...merged(), state: 'MERGE_REQUEST_STATE_OPEN', reverted: false, mergedAfterS: 0 }))).not.toThrow();
  });

  it.each([
    ['an unknown job id', { deliveryJobId: 'x' }, 'deliveryOutcome.deliveryJobId'],
    ['no state', { state: 'MERGE_REQUEST_STATE_UNSPECIFIED' as const }, 'deliveryOutcome.state'],
    ['a revert of a request never merged', { state: 'MERGE_REQUEST_STATE_CLOSED' as const, mergedAfterS: 0 }, 'deliveryOutcome.reverted'],
    ['a merge time on an open request', { state: 'MERGE_REQUEST_STATE_OPEN' as const, reverted: false }, 'deliveryOutcome.mergedAfterS'],
    ['no metadata level', { metadataLevel: 'METADATA_LEVEL_UNSPECIFIED' as const }, 'deliveryOutcome.metadataLevel'],
  ])('refuses %s', (_what, override, field) => {
    expect(violationOf(() => validateWorkerFrame(frame({ ...merged(), ...override }))).field).toBe(field);
  });

  it('holds the figures to the level they were reported at', () => {
    const minimal = { ...merged(), metadataLevel: 'METADATA_LEVEL_MINIMAL' as const };
    expect(violationOf(() => validateWorkerFrame(frame(minimal))).field).toBe('deliveryOutcome.humanCommits');
    expect(() => validateWorkerFrame(frame({ ...minimal, humanCommits: 0, reviewRounds: 0, firstReviewAfterS: 0, mergedAfterS: 0 }))).not.toThrow();
    const bucketed = { ...merged(), metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED' as const, humanCommits: 2, firstReviewAfterS: 3_600, mergedAfterS: 86_400 };
    expect(() => validateWorkerFrame(frame(bucketed))).not.toThrow();
    expect(violationOf(() => validateWorkerFrame(frame({ ...bucketed, humanCommits: 3 }))).field).toBe('deliveryOutcome.humanCommits');
    expect(violationOf(() => validateWorkerFrame(frame({ ...bucketed, mergedAfterS: 90_061 }))).field).toBe('deliveryOutcome.mergedAfterS');
  });
});

describe('job result policy and metadata level', () => {
  type Result = NonNullable<WorkerFrame__Output['result']>;
  const base = (): Result => ({
    attempt: { jobId: randomUUID(), attempt: 1 },
    outcome: 'JOB_OUTCOME_FAILED',
    failureCode: 'POLICY_VIOLATION',
    failedPhase: 'PHASE_APPLY',
    phaseDurations: [{ phase: 'PHASE_INFERENCE', durationMs: 1200 }],
    tokens: null,
    change: null,
    verification: null,
    contextFiles: 0,
    changeMac: Buffer.alloc(0),
    deliveryMac: Buffer.alloc(0),
    policy: { revision: 4, shadowRevision: 5, decisions: [{ rule: 'RULE_PROTECTED_PATHS', level: 'RULE_LEVEL_MANDATORY', outcome: 'RULE_OUTCOME_BLOCKED' }] },
    metadataLevel: 'METADATA_LEVEL_MINIMAL',
    review: null,
    ticketRefMac: Buffer.alloc(0),
    delivery: 'DELIVERY_UNSPECIFIED',
    modelUsage: [],
  });
  const frame = (result: Result): WorkerFrame__Output => ({ frame: 'result', result });
  const zeroVerification = {
    testsRan: false, testExitCode: 0, baseTestsRan: false, baseTestExitCode: 0, baseReportRead: false, reportRead: false,
    testsBefore: 0, failingBefore: 0, testsAfter: 0, failingAfter: 0, testsFixed: 0, testsRegressed: 0, agentTestRuns: 0, reproductionAdded: false,
  };

  it('checks the policy report', () => {
    expect(() => validateWorkerFrame(frame(base()))).not.toThrow();
    const decision = base().policy!.decisions[0]!;
    const withPolicy = (policy: Partial<NonNullable<Result['policy']>>) => frame({ ...base(), policy: { ...base().policy!, ...policy } });
    expect(violationOf(() => validateWorkerFrame(withPolicy({ revision: 2 ** 31 }))).field).toBe('result.policy.revision');
    expect(violationOf(() => validateWorkerFrame(withPolicy({ shadowRevision: -1 }))).field).toBe('result.policy.shadowRevision');
    expect(violationOf(() => validateWorkerFrame(withPolicy({ decisions: Array.from({ length: 49 }, () => decision) }))).field).toBe('result.policy.decisions');
    expect(violationOf(() => validateWorkerFrame(withPolicy({ decisions: [{ ...decision, rule: 'POLICY_RULE_UNSPECIFIED' }] }))).field).toBe('result.policy.decisions[0].rule');
    expect(violationOf(() => validateWorkerFrame(withPolicy({ decisions: [{ ...decision, level: 'RULE_LEVEL_UNSPECIFIED' }] }))).field).toBe('result.policy.decisions[0].level');
    expect(violationOf(() => validateWorkerFrame(withPolicy({ decisions: [{ ...decision, outcome: 'RULE_OUTCOME_UNSPECIFIED' }] }))).field).toBe('result.policy.decisions[0].outcome');
  });

  it('refuses a delivery kind it does not know', () => {
    const standard = { ...base(), metadataLevel: 'METADATA_LEVEL_STANDARD' as const };
    expect(() => validateWorkerFrame(frame({ ...standard, delivery: 'DELIVERY_OUTBOX' }))).not.toThrow();
    expect(violationOf(() => validateWorkerFrame(frame({ ...standard, delivery: 'DELIVERY_PIGEON' as never })))).toEqual({ field: 'result.delivery', expected: 'a known Delivery' });
  });

  it('refuses a result without a metadata level', () => {
    expect(violationOf(() => validateWorkerFrame(frame({ ...base(), metadataLevel: 'METADATA_LEVEL_UNSPECIFIED' }))).field).toBe('result.metadataLevel');
  });

  it('accepts a minimal result whose statistics are all zero', () => {
    const zeros = { ...base(), tokens: { requests: 0, promptTokens: 0, completionTokens: 0 }, verification: zeroVerification };
    expect(() => validateWorkerFrame(frame(zeros))).not.toThrow();
  });

  it.each([
    ['token usage', { tokens: { requests: 1, promptTokens: 0, completionTokens: 0 } }, 'result.tokens.requests'],
    ['change statistics', { change: { filesChanged: 0, linesAdded: 2, linesRemoved: 0, editsProposed: 0, editsApplied: 0 } }, 'result.change.linesAdded'],
    ['a test run', { verification: { ...zeroVerification, testsRan: true } }, 'result.verification.testsRan'],
    ['context files', { contextFiles: 3 }, 'result.contextFiles'],
    ['a change MAC', { changeMac: randomBytes(32) }, 'result.changeMac'],
    ['a delivery MAC', { deliveryMac: randomBytes(32) }, 'result.deliveryMac'],
    ['where the change went', { delivery: 'DELIVERY_MERGE_REQUEST_OPENED' as const }, 'result.delivery'],
    ['a ticket digest', { ticketRefMac: randomBytes(32) }, 'result.ticketRefMac'],
    ['review counts', { review: { critical: 0, major: 0, minor: 0, info: 0, dropped: 0 } }, 'result.review'],
    ['an unrounded duration', { phaseDurations: [{ phase: 'PHASE_TEST' as const, durationMs: 1234 }] }, 'result.phaseDurations[0].durationMs'],
  ])('refuses a minimal result that reports %s', (_what, override, field) => {
    expect(violationOf(() => validateWorkerFrame(frame({ ...base(), ...override }))).field).toBe(field);
  });

  const bucketed = (): Result => ({
    ...base(),
    outcome: 'JOB_OUTCOME_SUCCEEDED',
    failureCode: 'FAILURE_CODE_UNSPECIFIED',
    failedPhase: 'PHASE_UNSPECIFIED',
    tokens: { requests: 4, promptTokens: 8192, completionTokens: 512 },
    change: { filesChanged: 2, linesAdded: 32, linesRemoved: 0, editsProposed: 4, editsApplied: 4 },
    verification: { ...zeroVerification, testsRan: true, testExitCode: 1, baseTestsRan: true, baseTestExitCode: 1, testsBefore: 64, failingBefore: 2, testsAfter: 64, failingAfter: 1, testsFixed: 1 },
    contextFiles: 16,
    changeMac: randomBytes(32),
    deliveryMac: randomBytes(32),
    metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED',
  });

  it('accepts a bucketed result whose figures are powers of two', () => {
    expect(() => validateWorkerFrame(frame(bucketed()))).not.toThrow();
  });

  it.each([
    ['a token count', { tokens: { requests: 4, promptTokens: 8000, completionTokens: 512 } }, 'result.tokens.promptTokens'],
    ['a line count', { change: { filesChanged: 2, linesAdded: 33, linesRemoved: 0, editsProposed: 4, editsApplied: 4 } }, 'result.change.linesAdded'],
    ['a test count', { verification: { ...bucketed().verification!, testsAfter: 65 } }, 'result.verification.testsAfter'],
    ['an exit code', { verification: { ...bucketed().verification!, testExitCode: 2 } }, 'result.verification.testExitCode'],
    ['context files', { contextFiles: 12 }, 'result.contextFiles'],
    ['a duration', { phaseDurations: [{ phase: 'PHASE_TEST' as const, durationMs: 250 }] }, 'result.phaseDurations[0].durationMs'],
  ])('refuses a bucketed result that reports %s exactly', (_what, override, field) => {
    expect(violationOf(() => validateWorkerFrame(frame({ ...bucketed(), ...override }))).field).toBe(field);
  });
});


describe('job result model usage', () => {
  type Result = NonNullable<WorkerFrame__Output['result']>;
  type Usage = Result['modelUsage'][number];
  const primary: Usage = { endpointIndex: 0, endpoint: 'local-vllm', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 3, promptTokens: 0, completionTokens: 0 };
  const fallback: Usage = { endpointIndex: 1, endpoint: 'spare.ollama', model: 'qwen2.5-coder:7b', requests: 2, promptTokens: 900, completionTokens: 120 };
  const withUsage = (modelUsage: Usage[], tokens: Result['tokens'] = { requests: 5, promptTokens: 900, completionTokens: 120 }): WorkerFrame__Output => ({
    frame: 'result',
    result: {
      attempt: { jobId: randomUUID(), attempt: 1 },
      outcome: 'JOB_OUTCOME_FAILED',
      failureCode: 'TESTS_FAILED',
      failedPhase: 'PHASE_TEST',
      phaseDurations: [],
      tokens,
      change: null,
      verification: null,
      contextFiles: 1,
      changeMac: Buffer.alloc(0),
      deliveryMac: Buffer.alloc(0),
      policy: null,
      metadataLevel: 'METADATA_LEVEL_STANDARD',
      review: null,
      ticketRefMac: Buffer.alloc(0),
      delivery: 'DELIVERY_UNSPECIFIED',
      modelUsage,
    },
  });

  it('accepts a failed primary and the fallback that answered, adding up to the totals', () => {
    expect(() => validateWorkerFrame(withUsage([primary, fallback]))).not.toThrow();
  });

  it('accepts no entries with any totals, as workers older than the field send', () => {
    expect(() => validateWorkerFrame(withUsage([]))).not.toThrow();
  });

  it('accepts the model names operators write: Hugging Face ids, Ollama tags, served paths', () => {
    for (const model of ['gpt-oss-20b', 'hf.co/bartowski/Qwen2.5-Coder-7B-Instruct-GGUF:Q4_K_M', '/models/qwen2.5-coder', 'llama3.1:8b-instruct-q4_K_M', 'codestral@2405', 'x'.repeat(200)]) {
      expect(() => validateWorkerFrame(withUsage([{ ...primary, model }, fallback]))).not.toThrow();
    }
  });

  it.each([
    ['more entries than a worker may configure endpoints', Array.from({ length: 17 }, (_, i): Usage => ({ ...fallback, endpointIndex: i })), 'result.modelUsage'],
    ['an index past the last endpoint a worker may have', [primary, { ...fallback, endpointIndex: 16 }], 'result.modelUsage[1].endpointIndex'],
    ['an endpoint twice', [primary, { ...fallback, endpointIndex: 0 }], 'result.modelUsage[1].endpointIndex'],
    ['endpoints out of configured order', [{ ...fallback, endpointIndex: 3 }, { ...primary, endpointIndex: 1 }], 'result.modelUsage[1].endpointIndex'],
    ['a fractional index', [{ ...primary, endpointIndex: 0.5 }, fallback], 'result.modelUsage[0].endpointIndex'],
    ['an empty endpoint name', [{ ...primary, endpoint: '' }, fallback], 'result.modelUsage[0].endpoint'],
    ['an endpoint name with a slash', [primary, { ...fallback, endpoint: 'gpu/box-1' }], 'result.modelUsage[1].endpoint'],
    ['an endpoint name past 64 characters', [{ ...primary, endpoint: 'e'.repeat(65) }, fallback], 'result.modelUsage[0].endpoint'],
    ['an empty model name', [{ ...primary, model: '' }, fallback], 'result.modelUsage[0].model'],
    ['a model name past 200 characters', [{ ...primary, model: 'm'.repeat(201) }, fallback], 'result.modelUsage[0].model'],
    ['a model name with spaces', [{ ...primary, model: 'fix the bug in src/payments.ts' }, fallback], 'result.modelUsage[0].model'],
    ['a model name with a control character', [primary, { ...fallback, model: 'qwen\u0000' }], 'result.modelUsage[1].model'],
    ['a model name with a line break', [primary, { ...fallback, model: 'qwen\nsecret' }], 'result.modelUsage[1].model'],
    ['an entry for an endpoint never asked', [primary, { ...fallback, requests: 0 }], 'result.modelUsage[1].requests'],
    ['a negative token count', [primary, { ...fallback, promptTokens: -1 }], 'result.modelUsage[1].promptTokens'],
    ['a token count past uint32', [primary, { ...fallback, completionTokens: 2 ** 32 }], 'result.modelUsage[1].completionTokens'],
  ])('refuses %s', (_what, modelUsage, field) => {
    expect(violationOf(() => validateWorkerFrame(withUsage(modelUsage))).field).toBe(field);
  });

  it.each([
    ['requests', { requests: 4, promptTokens: 900, completionTokens: 120 }],
    ['promptTokens', { requests: 5, promptTokens: 901, completionTokens: 120 }],
    ['completionTokens', { requests: 5, promptTokens: 900, completionTokens: 119 }],
  ])('refuses totals of %s other than the sum over the endpoints', (figure, tokens) => {
    expect(violationOf(() => validateWorkerFrame(withUsage([primary, fallback], tokens)))).toEqual({ field: `result.tokens.${figure}`, expected: `the sum of result.modelUsage[*].${figure}` });
  });

  it('round-trips through protobuf, and its largest valid form fits the upstream frame bound', () => {
    const usage = Array.from({ length: WIRE_LIMITS.maxInferenceEndpoints }, (_, endpointIndex): Usage => ({
      endpointIndex, endpoint: 'e'.repeat(64), model: 'm'.repeat(200), requests: 0xffff_ffff, promptTokens: 0xffff_ffff, completionTokens: 0xffff_ffff,
    }));
    // Only the size matters here: every figure at its widest varint.
    const largest = withUsage(usage, { requests: 0xffff_ffff, promptTokens: 0xffff_ffff, completionTokens: 0xffff_ffff });
    const decision = { rule: 'RULE_PROTECTED_PATHS' as const, level: 'RULE_LEVEL_MANDATORY' as const, outcome: 'RULE_OUTCOME_SHADOW_WOULD_BLOCK' as const };
    const everything = {
      ...largest.result!,
      phaseDurations: Array.from({ length: WIRE_LIMITS.maxPhaseDurations }, () => ({ phase: 'PHASE_BASELINE' as const, durationMs: 0xffff_ffff })),
      changeMac: randomBytes(32),
      deliveryMac: randomBytes(32),
      policy: { revision: WIRE_LIMITS.maxPolicyRevision, shadowRevision: WIRE_LIMITS.maxPolicyRevision, decisions: Array.from({ length: WIRE_LIMITS.maxPolicyDecisions }, () => decision) },
    };
    const WorkerFrame = loadAirlockV1().WorkerFrame;
    expect(WorkerFrame.serialize({ result: everything }).length).toBeLessThanOrEqual(WIRE_LIMITS.maxUpstreamMessageBytes);
    const roundTripped = WorkerFrame.deserialize(WorkerFrame.serialize({ result: withUsage([primary, fallback]).result! })) as WorkerFrame__Output;
    expect(roundTripped.result!.modelUsage).toEqual([primary, fallback]);
  });

  it('refuses entries without totals', () => {
    expect(violationOf(() => validateWorkerFrame(withUsage([primary, fallback], null))).field).toBe('result.tokens');
  });

  it('refuses entries at the minimal level', () => {
    const frame = withUsage([primary]);
    const minimal = { ...frame, result: { ...frame.result!, tokens: null, contextFiles: 0, metadataLevel: 'METADATA_LEVEL_MINIMAL' as const } };
    expect(violationOf(() => validateWorkerFrame(minimal))).toEqual({ field: 'result.modelUsage', expected: 'empty at METADATA_LEVEL_MINIMAL' });
  });

  describe('at the bucketed level', () => {
    // Exact 3 + 5 requests (8), 700 + 900 prompt tokens (1600), 90 + 30 completion tokens (120), floored each on its own.
    const bucketedFrame = (modelUsage: Usage[], tokens: Result['tokens']) => {
      const frame = withUsage(modelUsage, tokens);
      return { ...frame, result: { ...frame.result!, metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED' as const } };
    };
    const floored: Usage[] = [
      { ...primary, requests: 2, promptTokens: 512, completionTokens: 64 },
      { ...fallback, requests: 4, promptTokens: 512, completionTokens: 16 },
    ];

    it('accepts figures that exact figures adding up to the exact totals floor to', () => {
      expect(() => validateWorkerFrame(bucketedFrame(floored, { requests: 8, promptTokens: 1024, completionTokens: 64 }))).not.toThrow();
    });

    it('refuses an exact figure', () => {
      const exact = [floored[0]!, { ...floored[1]!, promptTokens: 900 }];
      expect(violationOf(() => validateWorkerFrame(bucketedFrame(exact, { requests: 8, promptTokens: 1024, completionTokens: 64 }))).field).toBe('result.modelUsage[1].promptTokens');
    });

    it.each([
      ['a total below what the figures floor from', { requests: 2, promptTokens: 1024, completionTokens: 64 }, 'result.tokens.requests'],
      ['a total above anything the figures could add up to', { requests: 8, promptTokens: 4096, completionTokens: 64 }, 'result.tokens.promptTokens'],
    ])('refuses %s', (_what, tokens, field) => {
      expect(violationOf(() => validateWorkerFrame(bucketedFrame(floored, tokens))).field).toBe(field);
    });
  });
});

describe('the Welcome and its version notice', () => {
  const welcome = (versionNotice: VersionNotice__Output | null): ControlFrame__Output => ({
    frame: 'welcome',
    welcome: { heartbeatIntervalMs: 1_000, leaseTtlMs: 10_000, versionNotice },
  });
  const deprecated = { status: VersionStatus.VERSION_STATUS_DEPRECATED, recommendedVersion: '0.4.0', endOfSupportAtS: 1_790_000_000 };
  const connect = workerGatewayServiceDefinition()['Connect']!;

  it('accepts a Welcome without a notice, and one telling a deprecated worker what to upgrade to and when support ends', () => {
    expect(() => validateControlFrame(welcome(null))).not.toThrow();
    expect(() => validateControlFrame(welcome(deprecated))).not.toThrow();
  });

  it('carries the notice over the wire, end of support as a number of seconds', () => {
    const bytes = connect.responseSerialize({ welcome: { heartbeatIntervalMs: 1_000, leaseTtlMs: 10_000, versionNotice: deprecated } });
    const decoded = connect.responseDeserialize(bytes) as ControlFrame__Output;
    expect(decoded).toMatchObject({ frame: 'welcome', welcome: { versionNotice: deprecated } });
    expect((connect.responseDeserialize(connect.responseSerialize({ welcome: { heartbeatIntervalMs: 1_000, leaseTtlMs: 10_000 } })) as ControlFrame__Output).welcome?.versionNotice).toBeNull();
  });

  it.each([
    ['no version to upgrade to', { ...deprecated, recommendedVersion: '' }, 'welcome.versionNotice.recommendedVersion'],
    ['a version that is not one', { ...deprecated, recommendedVersion: 'latest; rm -rf /' }, 'welcome.versionNotice.recommendedVersion'],
    ['no end of support', { ...deprecated, endOfSupportAtS: 0 }, 'welcome.versionNotice.endOfSupportAtS'],
    ['an end of support past what a date holds', { ...deprecated, endOfSupportAtS: 8_640_000_000_001 }, 'welcome.versionNotice.endOfSupportAtS'],
  ])('refuses a deprecation notice with %s', (_what, notice, field) => {
    expect(violationOf(() => validateControlFrame(welcome(notice))).field).toBe(field);
  });

  it('lets through a status a newer control plane added, for the worker to ignore, its fields still held to their shapes', () => {
    const unknown = { status: 7 as unknown as VersionNotice__Output['status'], recommendedVersion: '', endOfSupportAtS: 0 };
    expect(() => validateControlFrame(welcome(unknown))).not.toThrow();
    expect(violationOf(() => validateControlFrame(welcome({ ...unknown, recommendedVersion: 'x' }))).field).toBe('welcome.versionNotice.recommendedVersion');
  });
});
