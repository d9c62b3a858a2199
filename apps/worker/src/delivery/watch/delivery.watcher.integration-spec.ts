import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ForgeDouble, gitlabApi, startForgeDouble } from '@airlock/local-stack';
import type { EffectivePolicy } from '@airlock/policy';
import { type DeliveryOutcome__Output, validateWorkerFrame, type WorkerFrame__Output } from '@airlock/protocol';
import type { ForgeConfig, RepositoryConfig } from '../../config/worker-config.loader';
import { CapturedLog } from '../../daemon/captured-log.mock';
import { ManualClock, settle } from '../../daemon/manual-clock.mock';
import { GitRunner } from '../../git/git-runner';
import { fakeJobContext } from '../../jobs/pipeline/job-context.mock';
import { WorkspaceManager } from '../../jobs/workspace/workspace.manager';
import { deliveryTrailers } from '../branch-pusher';
import { deliveryTargetOf } from '../delivery-target';
import { createForgeRepository, forgeConfigOf } from '../forge/forge-test.fixture';
import { createForgeClient } from '../forge/forge.factory';
import { DeliveryWatcher, type OutcomeChannel } from './delivery.watcher';
import { deliveryWatchListener } from './delivery-watch.listener';
import { DeliveryWatchStore } from './delivery-watch.store';
import { RevertFinder } from './revert-finder';

// The watcher end to end: a real bare repository behind the GitLab double, the worker's real
// mirror for the revert search, and a session that records what it would send upstream.
// Time is the test's (ManualClock); the forge's own timestamps are set where a test needs them.

const PROJECT = 'platform/payments';
const BOT = 'airlock-bot';
const TOKEN = `glpat-${randomBytes(12).toString('hex')}`;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const OPTIONS = { intervalMs: 10 * 60_000, revertWindowMs: 14 * DAY_MS, maxAgeMs: 30 * DAY_MS };
const STANDARD: EffectivePolicy['metadata'] = { report: 'standard', buckets: false };
const host = { path: process.env['PATH'] ?? '/usr/bin:/bin', lang: 'C.UTF-8' };

/** A session as the watcher sees it, recording each frame after the schema check the outbound gate makes. */
class RecordingChannel implements OutcomeChannel {
  connected = true;
  readonly frames: DeliveryOutcome__Output[] = [];

  send(frame: WorkerFrame__Output): boolean {
    validateWorkerFrame(frame);
    if (frame.frame !== 'deliveryOutcome' || frame.deliveryOutcome === null || frame.deliveryOutcome === undefined) throw new Error(`unexpected frame ${String(frame.frame)}`);
    this.frames.push(frame.deliveryOutcome);
    return true;
  }
}

describe('DeliveryWatcher against the GitLab double and a real repository', () => {
  let root: string;
  let bare: string;
  let double: ForgeDouble;
  let clock: ManualClock;
  let log: CapturedLog;
  let store: DeliveryWatchStore;
  let channel: RecordingChannel;
  let metadata: EffectivePolicy['metadata'];
  let watcher: DeliveryWatcher;
  let jobId: string;
  let repo: RepositoryConfig;

  /** Runs git with the given author and commit date (ISO), so that a test says when a person committed. */
  const gitAs = (cwd: string, at: string, ...args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Alice', GIT_AUTHOR_EMAIL: 'alice@example.com', GIT_COMMITTER_NAME: 'Alice', GIT_COMMITTER_EMAIL: 'alice@example.com', GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at } }).trim();
  /** A working copy of `branch` in which `work` runs, pushed back when it is done. */
  const onBranch = (branch: string, at: string, work: (cwd: string) => void): void => {
    const cwd = mkdtempSync(join(root, 'work-'));
    gitAs(cwd, at, 'clone', '--quiet', '--branch', branch, bare, '.');
    work(cwd);
    gitAs(cwd, at, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
    rmSync(cwd, { recursive: true, force: true });
  };
  const commitOn = (branch: string, message: string, at = new Date(clock.now()).toISOString()) =>
    onBranch(branch, at, (cwd) => {
      writeFileSync(join(cwd, `${randomUUID()}.ts`), 'export {};\n');
      gitAs(cwd, at, 'add', '--all');
      gitAs(cwd, at, 'commit', '--quiet', '-m', message);
    });
  const branch = () => `airlock/${jobId}`;
  const openedAt = () => Date.parse(double.state.mergeRequest(PROJECT, 1)?.createdAt ?? '');
  const iso = (ms: number) => new Date(ms).toISOString();
  const poll = () => watcher.pollOnce(AbortSignal.timeout(60_000));
  const last = () => channel.frames[channel.frames.length - 1];

  /** What DELIVER leaves: Airlock's commit on the chain's branch, the request it opened, and the watch its listener starts. */
  const deliver = async (outcome: 'opened' | 'updated' = 'opened'): Promise<void> => {
    if (outcome === 'opened') {
      commitOn(branch(), `Fix the login page\n\nAirlock job ${jobId}, attempt 1\n\n${deliveryTrailers(jobId, { generation: 0, attempt: 1 })}`);
      double.state.addMergeRequest({ project: PROJECT, sourceBranch: branch(), targetBranch: 'main', title: 'Fix the login page', body: '', labels: [], reviewers: [], draft: false, author: BOT });
    }
    const { ctx } = fakeJobContext();
    const target = deliveryTargetOf(jobId, 1, { deliveryJobId: jobId, deliveryGeneration: 0 }, 'airlock/');
    await deliveryWatchListener(store, () => clock.now())(ctx, { target, published: { outcome, mergeRequest: { number: 1, webUrl: `${double.origin}/${PROJECT}/-/merge_requests/1`, state: 'open' } } });
  };

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'airlock-delivery-watch-'));
    bare = createForgeRepository(root, 'payments.git', []);
    jobId = randomUUID();
    gitAs(bare, new Date().toISOString(), 'branch', `airlock/${jobId}`, 'main');
    double = await startForgeDouble(gitlabApi, { projects: { [PROJECT]: bare }, tokens: { [TOKEN]: BOT }, users: ['alice', 'bob'] });
    // The forge stamps the request's opening with the real time: the test's clock starts there.
    clock = new ManualClock(Date.now());
    log = new CapturedLog(() => clock.now());
    store = new DeliveryWatchStore(join(root, 'state', 'delivery-watch'), log.logger);
    channel = new RecordingChannel();
    metadata = STANDARD;
    const forge: ForgeConfig = forgeConfigOf({ type: 'gitlab', apiUrl: double.apiUrl, project: PROJECT, token: { env: 'AIRLOCK_GITLAB_TOKEN', value: TOKEN } });
    repo = { alias: 'demo', cloneUrl: bare, pushUrl: bare, branchPrefix: 'airlock/', baseRefs: ['main'], forge };
    watcher = new DeliveryWatcher({
      store,
      repositories: [repo],
      forgeClientFor: (config) => createForgeClient(config, { maxRetries: 0, retryBudgetMs: 0 }),
      reverts: new RevertFinder(new WorkspaceManager(join(root, 'workspace'), new GitRunner(host), log.logger)),
      metadataFor: () => metadata,
      options: OPTIONS,
      clock,
      logger: log.logger,
    });
    watcher.attach(channel);
  });
  afterEach(async () => {
    await double.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('follows a request from its opening through a commit, a review, the merge and a revert to the end of its window', async () => {
    await deliver();
    await poll();
    expect(channel.frames).toEqual([
      { deliveryJobId: jobId, state: 'MERGE_REQUEST_STATE_OPEN', humanCommits: 0, reverted: false, firstReviewAfterS: 0, reviewRounds: 0, mergedAfterS: 0, final: false, metadataLevel: 'METADATA_LEVEL_STANDARD' },
    ]);
    await poll();
    expect(channel.frames).toHaveLength(1);

    commitOn(branch(), 'Handle the empty password too');
    await poll();
    expect(last()).toMatchObject({ humanCommits: 1, reviewRounds: 0 });

    // The bot's own note is no review; alice's is the first, an hour and a half after the opening.
    double.state.addReview(PROJECT, 1, { author: BOT, kind: 'commented', at: iso(openedAt() + HOUR_MS), body: 'Tests pass.' });
    double.state.addReview(PROJECT, 1, { author: 'alice', kind: 'commented', at: iso(openedAt() + 1.5 * HOUR_MS), body: 'Why this way?' });
    await poll();
    expect(last()).toMatchObject({ firstReviewAfterS: 5400, reviewRounds: 1 });

    // A re-run updates the same request: the watch, and what it sent, stay.
    await deliver('updated');
    expect(store.get(jobId)).toMatchObject({ sent: last() });

    const mergedAt = openedAt() + 26 * HOUR_MS;
    const merged = double.state.mergeRequestMerged(PROJECT, 1, { at: iso(mergedAt) });
    await poll();
    expect(last()).toMatchObject({ state: 'MERGE_REQUEST_STATE_MERGED', mergedAfterS: 26 * 3600, reverted: false, final: false });

    const revertedAt = iso(mergedAt + HOUR_MS);
    onBranch('main', revertedAt, (cwd) => gitAs(cwd, revertedAt, 'revert', '--no-edit', '-m', '1', merged.mergeCommitSha ?? ''));
    await poll();
    expect(last()).toMatchObject({ state: 'MERGE_REQUEST_STATE_MERGED', reverted: true, final: false });

    await clock.advance(mergedAt + OPTIONS.revertWindowMs - clock.now());
    await poll();
    expect(last()).toEqual({ deliveryJobId: jobId, state: 'MERGE_REQUEST_STATE_MERGED', humanCommits: 1, reverted: true, firstReviewAfterS: 5400, reviewRounds: 1, mergedAfterS: 26 * 3600, final: true, metadataLevel: 'METADATA_LEVEL_STANDARD' });
    expect(store.get(jobId)).toMatchObject({ final: true });

    // Ended: polled no more, and the file is pruned once it is older than the age limit.
    const sentSoFar = channel.frames.length;
    const requestsSoFar = double.requests.length;
    await poll();
    expect(channel.frames).toHaveLength(sentSoFar);
    expect(double.requests).toHaveLength(requestsSoFar);
    await clock.advance(OPTIONS.maxAgeMs);
    await poll();
    expect(existsSync(join(root, 'state', 'delivery-watch', `${jobId}.json`))).toBe(false);
  });

  it('does not count a revert committed after the window', async () => {
    await deliver();
    const mergedAt = openedAt() + HOUR_MS;
    const merged = double.state.mergeRequestMerged(PROJECT, 1, { at: iso(mergedAt) });
    const late = iso(mergedAt + OPTIONS.revertWindowMs + HOUR_MS);
    onBranch('main', late, (cwd) => gitAs(cwd, late, 'revert', '--no-edit', '-m', '1', merged.mergeCommitSha ?? ''));
    await poll();
    expect(last()).toMatchObject({ state: 'MERGE_REQUEST_STATE_MERGED', reverted: false });
  });

  it('ends a closed request at once', async () => {
    await deliver();
    double.state.closeMergeRequest(PROJECT, 1);
    await poll();
    expect(last()).toMatchObject({ state: 'MERGE_REQUEST_STATE_CLOSED', reverted: false, mergedAfterS: 0, final: true });
    expect(store.get(jobId)).toMatchObject({ final: true });
  });

  it('ends a request still open past the age limit', async () => {
    await deliver();
    await poll();
    expect(last()).toMatchObject({ state: 'MERGE_REQUEST_STATE_OPEN', final: false });
    await clock.advance(OPTIONS.maxAgeMs);
    await poll();
    expect(last()).toMatchObject({ state: 'MERGE_REQUEST_STATE_OPEN', final: true });
    expect(store.get(jobId)).toMatchObject({ final: true });
  });

  it('sends at the metadata level in force when it sends: MINIMAL, then STANDARD_BUCKETED', async () => {
    await deliver();
    for (const message of ['One', 'Two', 'Three']) commitOn(branch(), message);
    double.state.addReview(PROJECT, 1, { author: 'alice', kind: 'commented', at: iso(openedAt() + 2.5 * HOUR_MS) });
    double.state.addReview(PROJECT, 1, { author: 'bob', kind: 'approved', at: iso(openedAt() + 3 * HOUR_MS) });
    double.state.addReview(PROJECT, 1, { author: 'bob', kind: 'commented', at: iso(openedAt() + 4 * HOUR_MS) });

    metadata = { report: 'minimal', buckets: false };
    await poll();
    expect(last()).toEqual({ deliveryJobId: jobId, state: 'MERGE_REQUEST_STATE_OPEN', humanCommits: 0, reverted: false, firstReviewAfterS: 0, reviewRounds: 0, mergedAfterS: 0, final: false, metadataLevel: 'METADATA_LEVEL_MINIMAL' });

    // Nothing changed on the forge, but the level did: what would be sent differs, so it goes.
    metadata = { report: 'standard', buckets: true };
    await poll();
    expect(last()).toEqual({ deliveryJobId: jobId, state: 'MERGE_REQUEST_STATE_OPEN', humanCommits: 2, reverted: false, firstReviewAfterS: 2 * 3600, reviewRounds: 2, mergedAfterS: 0, final: false, metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED' });
    expect(channel.frames).toHaveLength(2);
  });

  it('sends nothing while disconnected; after each Welcome, what changed meanwhile and what may not have arrived', async () => {
    await deliver();
    channel.connected = false;
    await poll();
    expect(channel.frames).toEqual([]);

    channel.connected = true;
    watcher.welcomed();
    expect(channel.frames).toEqual([expect.objectContaining({ state: 'MERGE_REQUEST_STATE_OPEN', reviewRounds: 0 })]);
    await poll();
    expect(channel.frames).toHaveLength(1);

    // Sent on a stream that may drop it: once more after the next Welcome, then no more.
    double.state.addReview(PROJECT, 1, { author: 'alice', kind: 'approved', at: iso(openedAt() + HOUR_MS) });
    await poll();
    expect(channel.frames).toHaveLength(2);
    watcher.welcomed();
    expect(channel.frames).toHaveLength(3);
    expect(channel.frames[2]).toEqual(channel.frames[1]);
    watcher.welcomed();
    expect(channel.frames).toHaveLength(3);
  });

  it('runs a cycle at once, then one each interval, until stopped', async () => {
    const cycles = jest.spyOn(watcher, 'pollOnce').mockResolvedValue();
    const stop = new AbortController();
    const running = watcher.run(channel, stop.signal);
    await settle();
    expect(cycles).toHaveBeenCalledTimes(1);
    await clock.advance(OPTIONS.intervalMs - 1);
    expect(cycles).toHaveBeenCalledTimes(1);
    await clock.advance(1);
    expect(cycles).toHaveBeenCalledTimes(2);
    stop.abort();
    await running;
    expect(clock.pendingTimers).toBe(0);
  });

  it('skips a watch for the cycle when its forge fails, logged locally without the token, and catches up after', async () => {
    await deliver();
    double.down();
    await poll();
    expect(channel.frames).toEqual([]);
    expect(log.events('delivery-watch-skipped')).toEqual([expect.objectContaining({ repoAlias: 'demo', reason: 'forge user unknown' })]);
    expect(JSON.stringify(log.lines)).not.toContain(TOKEN);

    double.up();
    await poll();
    expect(channel.frames).toEqual([expect.objectContaining({ state: 'MERGE_REQUEST_STATE_OPEN' })]);
  });
});
