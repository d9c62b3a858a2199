import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { protectBranches } from '@airlock/local-stack';
import { Delivery, FailureCode } from '@airlock/protocol';
import type { ForgeConfig, RepositoryConfig } from '../../config/worker-config.loader';
import { attemptWorktree } from '../../delivery/delivery-fixture.mock';
import { DELIVERY_OUTBOX_FILES, DeliveryOutbox, type DeliveryOutboxRecord } from '../../delivery/delivery-outbox';
import { ForgeError, type ForgeFailure } from '../../delivery/forge/forge-client';
import { InMemoryForge } from '../../delivery/in-memory-forge.mock';
import { GitRunner } from '../../git/git-runner';
import { JsonLogger } from '../../logging/json-logger';
import { localJobPolicy } from '../../policy/local-job-policy.mock';
import { createBareRepo, git } from '../../testing/git-fixture.mock';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { type DeliveryName, type FailureCodeName, keyedMac } from '../job-result.builder';
import { JobContext, type LeaseGuard } from '../pipeline/job-context';
import { InMemoryJobRecorder } from '../record/job-recorder.mock';
import { DeliverPhase, type MergeRequestListener } from './deliver.phase';

jest.setTimeout(30_000);

const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
const MAC_KEY = Buffer.alloc(32, 9);
const FIRST_JOB = '0b6f6a4e-5d3c-4f0e-9a57-1c2d3e4f5a6b';
const RERUN_JOB = '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const BRANCH = `airlock/${FIRST_JOB}`;
const REF = `refs/heads/${BRANCH}`;
const TICKET = { title: 'Fix add in calculator', description: 'add subtracts' };
const FORGE: ForgeConfig = {
  type: 'gitea',
  apiUrl: 'https://gitea.corp.example/api/v1',
  project: 'payments/calculator',
  token: { env: 'AIRLOCK_FORGE_TOKEN', value: 'gitea-test-token' },
  targetBranch: 'develop',
  labels: ['airlock', 'bot'],
  reviewers: ['alice'],
  draft: true,
  timeoutMs: 5_000,
};

/** One attempt as DELIVER sees it: which job and attempt, the repository's catalog entry, the lease guard. */
interface AttemptSpec {
  readonly jobId?: string;
  readonly attempt: number;
  readonly generation?: number;
  /** The first job of the re-run chain; the job itself when absent. */
  readonly deliveryJobId?: string;
  readonly repo?: Partial<RepositoryConfig>;
  readonly confirmLease?: LeaseGuard;
}

interface Delivered {
  readonly ctx: JobContext;
  readonly record: InMemoryJobRecorder;
  readonly commit: string;
  readonly error: unknown;
}

describe('DeliverPhase: push, merge request and delivery outbox (real git)', () => {
  let root: string;
  let origin: string;
  let outbox: DeliveryOutbox;
  let forge: InMemoryForge;
  let attempts: number;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-deliver-'));
    origin = createBareRepo({ 'src/calculator.js': 'function add(a, b) {\n  return a - b;\n}\n' });
    outbox = new DeliveryOutbox(join(root, 'delivery-outbox'), new GitRunner(host));
    forge = new InMemoryForge();
    attempts = 0;
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(dirname(origin), { recursive: true, force: true });
  });

  /** Runs DELIVER on a worktree whose change APPLY staged; resolves with what it did or threw. */
  async function deliver(spec: AttemptSpec, listeners: readonly MergeRequestListener[] = []): Promise<Delivered> {
    attempts += 1;
    const worktree = attemptWorktree(origin, join(root, 'mirror.git'), join(root, `attempt-${attempts}`));
    const baseCommit = git(worktree, 'rev-parse', 'HEAD').trim();
    writeFileSync(join(worktree, 'src/calculator.js'), `function add(a, b) {\n  return a + b; // attempt ${spec.attempt}\n}\n`);
    git(worktree, 'add', 'src/calculator.js');
    const record = new InMemoryJobRecorder();
    const ctx = new JobContext(
      {
        jobId: spec.jobId ?? FIRST_JOB,
        attempt: spec.attempt,
        task: { repoAlias: 'payments', baseRef: 'main', deliveryJobId: spec.deliveryJobId ?? '', deliveryGeneration: spec.generation ?? 0, ticketRef: '', ticket: TICKET },
        repo: { alias: 'payments', cloneUrl: origin, pushUrl: origin, branchPrefix: 'airlock/', baseRefs: ['main'], ...spec.repo },
        policy: localJobPolicy(),
        signal: new AbortController().signal,
        progress: () => undefined,
        confirmLease: spec.confirmLease ?? (() => Promise.resolve()),
      },
      new JsonLogger(() => undefined),
      record,
    );
    ctx.provide('workspace', { worktree, baseCommit });
    const phase = new DeliverPhase(new GitRunner(host), MAC_KEY, { outbox, forgeClientFor: () => forge, afterMergeRequest: listeners });
    const error = await phase.run(ctx).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    return { ctx, record, commit: git(worktree, 'rev-parse', 'HEAD').trim(), error };
  }

  const failureCodeOf = (error: unknown): FailureCodeName | undefined => (error instanceof JobPhaseFailedError ? error.failureCode : undefined);
  const tip = () => git(origin, 'for-each-ref', '--format=%(objectname)', REF).trim();
  const records = (): Array<DeliveryOutboxRecord | undefined> => outbox.list().map((listing) => listing.record);
  const notes = (record: InMemoryJobRecorder) => record.transcriptEntries.map((entry) => (entry.kind === 'note' ? entry.text : entry.kind));
  const outcome = ({ ctx, error }: Delivered): { delivery: DeliveryName; failureCode: FailureCodeName | undefined } => ({ delivery: ctx.report.delivery, failureCode: failureCodeOf(error) });

  it('keeps the change in the outbox alone when the repository has no push URL, and the job succeeds', async () => {
    const delivered = await deliver({ attempt: 1, repo: { pushUrl: undefined } });
    expect(outcome(delivered)).toEqual({ delivery: Delivery.DELIVERY_OUTBOX, failureCode: undefined });
    expect(delivered.ctx.report.deliveryMac).toEqual(keyedMac(MAC_KEY, 'delivery', REF));
    expect(tip()).toBe('');
    const [listing] = outbox.list();
    expect(listing?.record).toMatchObject({ jobId: FIRST_JOB, attempt: 1, state: 'pending', failureCode: null, commit: delivered.commit, branch: BRANCH });
    expect(notes(delivered.record)).toEqual([`delivery: change kept in the delivery outbox at ${listing?.directory} (pending)`]);
    // The customer takes it from there: the bundle restores the commit in a fresh clone.
    const clone = join(root, 'clone');
    git(root, 'clone', '--quiet', origin, clone);
    git(clone, 'fetch', '--quiet', join(listing?.directory ?? '', DELIVERY_OUTBOX_FILES.bundle), `HEAD:${REF}`);
    expect(git(clone, 'rev-parse', REF).trim()).toBe(delivered.commit);
  });

  it('pushes the branch and keeps a copy in the outbox when the repository has no forge; the commit says which job and attempt', async () => {
    const delivered = await deliver({ attempt: 1 });
    expect(outcome(delivered)).toEqual({ delivery: Delivery.DELIVERY_BRANCH, failureCode: undefined });
    expect(tip()).toBe(delivered.commit);
    expect(git(origin, 'log', '-1', '--format=%an <%ae>%n%B', REF)).toBe(
      [
        'Airlock <airlock@localhost>',
        TICKET.title,
        '',
        `Airlock job ${FIRST_JOB}, attempt 1`,
        '',
        `Airlock-Job: ${FIRST_JOB}`,
        'Airlock-Generation: 0',
        'Airlock-Attempt: 1',
        '',
        '',
      ].join('\n'),
    );
    expect(records()).toEqual([expect.objectContaining({ state: 'pushed', failureCode: null, mergeRequest: null })]);
    expect(notes(delivered.record)[0]).toBe(`delivery: branch ${BRANCH} pushed at ${delivered.commit}`);
  });

  it('opens a merge request on the forge and keeps nothing in the outbox; a re-run delivers to the same branch and updates that request', async () => {
    const first = await deliver({ attempt: 1, repo: { forge: FORGE } });
    expect(outcome(first)).toEqual({ delivery: Delivery.DELIVERY_MERGE_REQUEST_OPENED, failureCode: undefined });
    expect(forge.requests.map((request) => request.draft)).toEqual([
      {
        sourceBranch: BRANCH,
        targetBranch: 'develop',
        title: TICKET.title,
        body: expect.stringContaining(`Airlock job ${FIRST_JOB}, attempt 1`),
        labels: ['airlock', 'bot'],
        reviewers: ['alice'],
        draft: true,
      },
    ]);
    expect(forge.closed).toBe(true);
    expect(records()).toEqual([]);
    expect(notes(first.record)).toContain(`delivery: merge request 1 opened: ${forge.requests[0]?.webUrl}`);

    const rerun = await deliver({ jobId: RERUN_JOB, deliveryJobId: FIRST_JOB, generation: 1, attempt: 1, repo: { forge: FORGE } });
    expect(outcome(rerun)).toEqual({ delivery: Delivery.DELIVERY_MERGE_REQUEST_UPDATED, failureCode: undefined });
    expect(rerun.ctx.report.deliveryMac).toEqual(keyedMac(MAC_KEY, 'delivery', REF));
    expect(tip()).toBe(rerun.commit);
    expect(forge.requests.map((request) => [request.number, request.draft.sourceBranch])).toEqual([[1, BRANCH]]);
    expect(forge.requests[0]?.draft.body).toContain(`Airlock job ${RERUN_JOB}, attempt 1`);
  });

  it.each<[ForgeFailure, FailureCodeName]>([
    ['unavailable', FailureCode.FORGE_UNAVAILABLE],
    ['auth', FailureCode.FORGE_AUTH_FAILED],
    ['rate-limited', FailureCode.FORGE_RATE_LIMITED],
    ['refused', FailureCode.FORGE_REQUEST_REFUSED],
  ])('fails with the code of a forge that answers %s, the branch pushed and the change in the outbox as pushed', async (failure, code) => {
    forge.intercept('open', new ForgeError(failure, 'the forge said no'));
    const delivered = await deliver({ attempt: 1, repo: { forge: FORGE } });
    expect(outcome(delivered)).toEqual({ delivery: Delivery.DELIVERY_OUTBOX, failureCode: code });
    expect(tip()).toBe(delivered.commit);
    expect(records()).toEqual([expect.objectContaining({ state: 'pushed', failureCode: code, mergeRequest: null, commit: delivered.commit })]);
    expect(forge.closed).toBe(true);
  });

  it('tells its listeners of the request it opened; one that fails changes nothing about the delivery', async () => {
    const heard: Array<[string, number]> = [];
    const failing: MergeRequestListener = () => Promise.reject(new Error('the tracker is down'));
    const recording: MergeRequestListener = (_ctx, { target, published }) => {
      heard.push([target.branch, published.mergeRequest.number]);
      return Promise.resolve();
    };
    const delivered = await deliver({ attempt: 1, repo: { forge: FORGE } }, [failing, recording]);
    expect(outcome(delivered)).toEqual({ delivery: Delivery.DELIVERY_MERGE_REQUEST_OPENED, failureCode: undefined });
    expect(heard).toEqual([[BRANCH, 1]]);
  });

  it('links the open request it could not update in the outbox record', async () => {
    await deliver({ attempt: 1, repo: { forge: FORGE } });
    forge.intercept('update', new ForgeError('rate-limited', '429 Too Many Requests', 429));
    const second = await deliver({ attempt: 2, repo: { forge: FORGE } });
    expect(outcome(second)).toEqual({ delivery: Delivery.DELIVERY_OUTBOX, failureCode: FailureCode.FORGE_RATE_LIMITED });
    expect(records()).toEqual([expect.objectContaining({ attempt: 2, state: 'pushed', mergeRequest: { number: 1, webUrl: forge.requests[0]?.webUrl } })]);
  });

  it('fails BRANCH_PROTECTED when a protection rule refuses the push, the change in the outbox as pending', async () => {
    protectBranches(origin, 'airlock/*', 'github');
    const delivered = await deliver({ attempt: 1, repo: { forge: FORGE } });
    expect(outcome(delivered)).toEqual({ delivery: Delivery.DELIVERY_OUTBOX, failureCode: FailureCode.BRANCH_PROTECTED });
    expect(tip()).toBe('');
    expect(forge.calls).toEqual([]);
    expect(records()).toEqual([expect.objectContaining({ state: 'pending', failureCode: FailureCode.BRANCH_PROTECTED, commit: delivered.commit })]);
    expect(delivered.ctx.report.deliveryMac).toEqual(keyedMac(MAC_KEY, 'delivery', REF));
  });

  it('supersedes a stale attempt whose lease check passed: the branch and the outbox keep the newer attempt', async () => {
    const second = await deliver({ attempt: 2 });
    const stale = await deliver({ attempt: 1 });
    expect(outcome(stale)).toEqual({ delivery: Delivery.DELIVERY_UNSPECIFIED, failureCode: FailureCode.DELIVERY_SUPERSEDED });
    expect(git(origin, 'log', '--format=%H', REF).trim().split('\n')[0]).toBe(second.commit);
    expect(records()).toEqual([expect.objectContaining({ attempt: 2, commit: second.commit, state: 'pushed' })]);
    expect(stale.ctx.report.deliveryMac).toHaveLength(0);
  });

  it('supersedes a stale attempt of a repository without a push URL: the outbox keeps the newer entry', async () => {
    const second = await deliver({ attempt: 2, repo: { pushUrl: undefined } });
    const stale = await deliver({ attempt: 1, repo: { pushUrl: undefined } });
    expect(outcome(stale)).toEqual({ delivery: Delivery.DELIVERY_UNSPECIFIED, failureCode: FailureCode.DELIVERY_SUPERSEDED });
    expect(records()).toEqual([expect.objectContaining({ attempt: 2, commit: second.commit })]);
  });

  it('delivers nothing when the lease guard fails, not even to the outbox', async () => {
    const delivered = await deliver({
      attempt: 1,
      repo: { forge: FORGE },
      confirmLease: () => Promise.reject(new JobPhaseFailedError(FailureCode.LEASE_UNCONFIRMED, 'no lease renewal')),
    });
    expect(outcome(delivered)).toEqual({ delivery: Delivery.DELIVERY_UNSPECIFIED, failureCode: FailureCode.LEASE_UNCONFIRMED });
    expect(tip()).toBe('');
    expect(readdirSync(root)).not.toContain('delivery-outbox');
    expect(forge.calls).toEqual([]);
  });
});
