import { randomUUID } from 'node:crypto';
import { FailureCode, type InstructionPayload__Output, type SignedInstruction__Output, type WorkerFrame__Output } from '@airlock/protocol';
import type { InstructionDecision } from '../instructions/instruction.gatekeeper';
import type { JobPolicy } from '../policy/job-policy';
import { localJobPolicy } from '../policy/local-job-policy.mock';
import { CapturedLog } from './captured-log.mock';
import { CreditLedger } from './credit.ledger';
import { InstructionAdmission, REFUSAL_BUDGET } from './instruction.admission';
import { ManualClock } from './manual-clock.mock';

const SIGNED: SignedInstruction__Output = { keyId: 'sk_0123456789abcdef', payload: Buffer.from('payload'), signature: Buffer.alloc(64) };

function payload(jobId = randomUUID(), attempt = 1): InstructionPayload__Output {
  return { jobId, attempt, tenantId: randomUUID(), audience: randomUUID(), issuedAtMs: 0, expiresAtMs: 60_000, nonce: Buffer.alloc(16), policyRef: '', noop: {}, task: 'noop' };
}

describe('InstructionAdmission', () => {
  let clock: ManualClock;
  let log: CapturedLog;
  let decision: InstructionDecision | Error;
  let recorded: Set<string>;
  let ledgerFails: boolean;
  let running: Set<string>;
  let acceptsWork: boolean;
  let auditHealthy: boolean;
  let sent: WorkerFrame__Output[];
  let session: { throttled: boolean; hungUp: string[]; sendFails: boolean };
  let credits: CreditLedger;
  let admission: InstructionAdmission;

  const key = (jobId: string, attempt: number) => `${jobId}#${attempt}`;
  const sentKinds = () => sent.map((frame) => frame.frame);
  const rejections = () => sent.filter((frame) => frame.frame === 'rejected').map((frame) => frame.rejected);

  beforeEach(() => {
    clock = new ManualClock();
    log = new CapturedLog(() => clock.now());
    decision = { ok: true, payload: payload(), policy: localJobPolicy() };
    recorded = new Set();
    ledgerFails = false;
    running = new Set();
    acceptsWork = true;
    auditHealthy = true;
    sent = [];
    session = { throttled: false, hungUp: [], sendFails: false };
    credits = new CreditLedger(2, () => running.size);
    credits.topUp(() => true); // two credits outstanding, as after a Welcome
    admission = new InstructionAdmission({
      gatekeeper: {
        check: () => {
          if (decision instanceof Error) throw decision;
          return decision;
        },
      },
      attempts: {
        has: (jobId, attempt) => recorded.has(key(jobId, attempt)),
        record: (jobId, attempt) => {
          if (ledgerFails) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
          recorded.add(key(jobId, attempt));
        },
      },
      slots: {
        has: (jobId, attempt) => running.has(key(jobId, attempt)),
        get isFull() {
          return running.size >= 2;
        },
      },
      credits,
      session: {
        send: (frame) => {
          if (session.sendFails) return false;
          sent.push(frame);
          return true;
        },
        throttle: (reason) => {
          session.throttled = true;
          session.hungUp.push(reason);
        },
        get throttled() {
          return session.throttled;
        },
      },
      acceptsWork: () => acceptsWork,
      topUpCredits: () => credits.topUp((granted) => sent.push({ frame: 'credit', credit: { credits: granted } }) > 0),
      auditHealthy: () => auditHealthy,
      clock,
      logger: log.logger,
    });
  });

  it('acks an instruction that passes, records its attempt first, and spends its credit', () => {
    const accepted = admission.admit(SIGNED);
    const passed = decision as { payload: InstructionPayload__Output; policy: JobPolicy };
    expect(accepted).toEqual({ payload: passed.payload, policy: passed.policy });
    expect(recorded.has(key(accepted!.payload.jobId, 1))).toBe(true);
    expect(sent).toEqual([{ frame: 'ack', ack: { attempt: { jobId: accepted!.payload.jobId, attempt: 1 } } }]);
    expect(credits.outstanding).toBe(1);
  });

  it("refuses with the gatekeeper's code, naming the attempt, and gives the credit back", () => {
    const jobId = randomUUID();
    decision = { ok: false, failureCode: FailureCode.INSTRUCTION_BAD_SIGNATURE, attempt: { jobId, attempt: 2 } };
    expect(admission.admit(SIGNED)).toBeUndefined();
    expect(sent).toEqual([
      { frame: 'rejected', rejected: { attempt: { jobId, attempt: 2 }, failureCode: FailureCode.INSTRUCTION_BAD_SIGNATURE, rules: [] } },
      { frame: 'credit', credit: { credits: 1 } },
    ]);
    expect(credits.outstanding).toBe(2);
    expect(recorded.size).toBe(0);
  });

  it('names the policy rules that forbade the task in the rejection', () => {
    const jobId = randomUUID();
    decision = { ok: false, failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, attempt: { jobId, attempt: 1 }, rules: ['RULE_REPOSITORIES'] };
    expect(admission.admit(SIGNED)).toBeUndefined();
    expect(rejections()).toEqual([{ attempt: { jobId, attempt: 1 }, failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: ['RULE_REPOSITORIES'] }]);
    expect(log.events('instruction-rejected')).toEqual([expect.objectContaining({ failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: ['RULE_REPOSITORIES'] })]);
  });

  it('refuses an attempt running here, or recorded as accepted before, with ATTEMPT_ALREADY_SEEN', () => {
    const live = payload();
    running.add(key(live.jobId, 1));
    decision = { ok: true, payload: live, policy: localJobPolicy() };
    expect(admission.admit(SIGNED)).toBeUndefined();
    const done = payload();
    recorded.add(key(done.jobId, 1));
    decision = { ok: true, payload: done, policy: localJobPolicy() };
    expect(admission.admit(SIGNED)).toBeUndefined();
    expect(rejections()).toEqual([
      { attempt: { jobId: live.jobId, attempt: 1 }, failureCode: FailureCode.ATTEMPT_ALREADY_SEEN, rules: [] },
      { attempt: { jobId: done.jobId, attempt: 1 }, failureCode: FailureCode.ATTEMPT_ALREADY_SEEN, rules: [] },
    ]);
    expect(sentKinds()).not.toContain('ack');
  });

  it('refuses WORKER_AT_CAPACITY when every slot is busy, giving nothing back for a credit it never had', () => {
    running.add('a#1');
    running.add('b#1');
    credits.resetForStream(); // both credits spent on the running jobs
    const extra = payload();
    decision = { ok: true, payload: extra, policy: localJobPolicy() };
    expect(admission.admit(SIGNED)).toBeUndefined();
    expect(sent).toEqual([{ frame: 'rejected', rejected: { attempt: { jobId: extra.jobId, attempt: 1 }, failureCode: FailureCode.WORKER_AT_CAPACITY, rules: [] } }]);
    expect(recorded.size).toBe(0);
  });

  it('refuses WORKER_AT_CAPACITY while the worker takes no work (draining)', () => {
    acceptsWork = false;
    expect(admission.admit(SIGNED)).toBeUndefined();
    expect(rejections()[0]?.failureCode).toBe(FailureCode.WORKER_AT_CAPACITY);
  });

  it('runs nothing when the attempt cannot be recorded, and gives the credit back', () => {
    ledgerFails = true;
    expect(admission.admit(SIGNED)).toBeUndefined();
    expect(sent).toEqual([{ frame: 'credit', credit: { credits: 1 } }]);
    expect(log.events('attempt-ledger-write-failed')).toHaveLength(1);
  });

  it('runs nothing when the nonce could not be stored (the check threw), and gives the credit back', () => {
    decision = new Error('nonce store full');
    expect(admission.admit(SIGNED)).toBeUndefined();
    expect(sent).toEqual([{ frame: 'credit', credit: { credits: 1 } }]);
    expect(log.events('instruction-check-failed')).toHaveLength(1);
  });

  it('does not start an attempt whose ack the audit log refused', () => {
    session.sendFails = true;
    auditHealthy = false;
    expect(admission.admit(SIGNED)).toBeUndefined();
    expect(log.events('instruction-dropped')).toEqual([expect.objectContaining({ failureCode: FailureCode.AUDIT_LOG_UNAVAILABLE })]);
  });

  it('refuses a malformed instruction, unnamed, and gives its credit back', () => {
    admission.refuseMalformed();
    expect(sent).toEqual([
      { frame: 'rejected', rejected: { attempt: null, failureCode: FailureCode.INSTRUCTION_MALFORMED, rules: [] } },
      { frame: 'credit', credit: { credits: 1 } },
    ]);
  });

  it(`answers ${REFUSAL_BUDGET.burst} refusals at once, then one every 3 s; past that it hangs up and drops the rest unlogged`, async () => {
    for (let i = 0; i < REFUSAL_BUDGET.burst; i += 1) admission.refuseMalformed();
    expect(rejections()).toHaveLength(REFUSAL_BUDGET.burst);
    expect(session.hungUp).toEqual([]);
    await clock.advance(3_000);
    admission.refuseMalformed();
    expect(rejections()).toHaveLength(REFUSAL_BUDGET.burst + 1);
    admission.refuseMalformed(); // no token left
    expect(session.hungUp).toEqual(['refusal-budget-exceeded']);
    expect(log.events('refusal-budget-exceeded')).toHaveLength(1);
    const logged = log.lines.length;
    for (let i = 0; i < 50; i += 1) admission.refuseMalformed();
    expect(rejections()).toHaveLength(REFUSAL_BUDGET.burst + 1);
    expect(log.lines).toHaveLength(logged);
  });
});
