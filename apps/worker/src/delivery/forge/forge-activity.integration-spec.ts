import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ForgeApi, type ForgeDouble, giteaApi, githubApi, gitlabApi, startForgeDouble } from '@airlock/local-stack';
import type { ForgeConfig } from '../../config/worker-config.loader';
import { git } from '../../testing/git-fixture.mock';
import { deliveryTrailers } from '../branch-pusher';
import type { ClosableForgeClient, MergeRequestReview } from './forge-client';
import { createForgeClient } from './forge.factory';
import { createForgeRepository, forgeConfigOf, forgeFailureOf } from './forge-test.fixture';

// The delivery watch's reads of each forge, against its double over real HTTP and a real bare
// repository. The routes each test exercises:
// GitLab  https://docs.gitlab.com/api/users/#retrieve-the-current-user
//         https://docs.gitlab.com/api/merge_requests/#get-single-mr, #get-single-mr-commits
//         https://docs.gitlab.com/api/notes/#list-all-merge-request-notes
//         https://docs.gitlab.com/api/merge_request_approvals/#retrieve-approval-state-for-a-merge-request
// GitHub  https://docs.github.com/en/enterprise-server@3.14/rest/users/users#get-the-authenticated-user
//         https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#get-a-pull-request, #list-commits-on-a-pull-request
//         https://docs.github.com/en/enterprise-server@3.14/rest/pulls/reviews#list-reviews-for-a-pull-request
// Gitea   https://docs.gitea.com/api/1.22/#tag/user/operation/userGetCurrent
//         https://docs.gitea.com/api/1.22/#tag/repository/operation/repoGetPullRequest, repoGetPullRequestCommits, repoListPullReviews

const BOT = 'airlock-bot';
const TOKEN = `forge-activity-${randomBytes(12).toString('hex')}`;
const JOB_ID = randomUUID();
const BRANCH = `airlock/${JOB_ID}`;
const DELIVERY = { maxRetries: 0, retryBudgetMs: 0 };
const OPENED_AT = Date.UTC(2030, 0, 1, 9);
const HOUR_MS = 3_600_000;

/** Each flavour: its API, its project, and the kind a request for changes is read as (GitLab's are comment notes). */
const FLAVOURS: ReadonlyArray<[ForgeConfig['type'], ForgeApi, string, MergeRequestReview['kind']]> = [
  ['gitlab', gitlabApi, 'platform/payments', 'commented'],
  ['github', githubApi, 'acme/payments', 'changes-requested'],
  ['gitea', giteaApi, 'acme/payments', 'changes-requested'],
];

describe.each(FLAVOURS)('the %s client reads what became of a request', (type, api, project, changesRequestedKind) => {
  let root: string;
  let bare: string;
  let double: ForgeDouble;
  let client: ClosableForgeClient;

  /** Pushes a commit with `message` onto `branch` of the forge's repository; resolves its sha. */
  const pushCommit = (branch: string, message: string): string => {
    const work = mkdtempSync(join(root, 'work-'));
    git(work, 'clone', '--quiet', '--branch', branch, bare, '.');
    writeFileSync(join(work, `${randomUUID()}.ts`), 'export {};\n');
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', message);
    git(work, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
    const sha = git(work, 'rev-parse', 'HEAD').trim();
    rmSync(work, { recursive: true, force: true });
    return sha;
  };
  const iso = (ms: number) => new Date(ms).toISOString();
  const signal = () => AbortSignal.timeout(30_000);

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), `airlock-${type}-activity-`));
    bare = createForgeRepository(root, 'payments.git', []);
    git(bare, 'branch', BRANCH, 'main');
    double = await startForgeDouble(api, { projects: { [project]: bare }, tokens: { [TOKEN]: BOT }, users: ['alice', 'bob'] });
    const config: ForgeConfig = forgeConfigOf({ type, apiUrl: double.apiUrl, project, token: { env: 'AIRLOCK_FORGE_TOKEN', value: TOKEN } });
    client = createForgeClient(config, DELIVERY);
  });
  afterEach(async () => {
    await client.close();
    await double.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** Airlock's commit on the branch and the request it opened for it, as DELIVER leaves them. */
  const deliver = async (): Promise<string> => {
    const sha = pushCommit(BRANCH, `Fix the login page\n\nAirlock job ${JOB_ID}, attempt 1\n\n${deliveryTrailers(JOB_ID, { generation: 0, attempt: 1 })}`);
    await client.open({ sourceBranch: BRANCH, targetBranch: 'main', title: 'Fix the login page', body: 'ticket', labels: [], reviewers: [], draft: false }, signal());
    return sha;
  };

  it("names the token's own user", async () => {
    await expect(client.currentUser(signal())).resolves.toBe(BOT);
  });

  it("reads an open request: its opening, its target, Airlock's commit and a person's pushed onto it", async () => {
    const airlockCommit = await deliver();
    const personsCommit = pushCommit(BRANCH, 'Handle the empty password too');

    const activity = await client.activity(1, signal());

    expect(activity).toMatchObject({ state: 'open', targetBranch: 'main', mergedAt: undefined, mergeCommitSha: undefined, reviews: [] });
    expect(Date.parse(double.state.mergeRequest(project, 1)?.createdAt ?? '') - activity.createdAt).toBeLessThan(1_000);
    expect(new Map(activity.commits.map((commit) => [commit.sha, commit.message]))).toEqual(
      new Map([
        [airlockCommit, expect.stringContaining(`Airlock-Job: ${JOB_ID}\n`)],
        [personsCommit, 'Handle the empty password too\n'],
      ]),
    );
  });

  it('reads the reviews by author, kind and time, the merge with its commit, and the commits as they were merged', async () => {
    await deliver();
    pushCommit(BRANCH, 'Handle the empty password too');
    double.state.addReview(project, 1, { author: BOT, kind: 'commented', at: iso(OPENED_AT), body: 'Tests pass.' });
    double.state.addReview(project, 1, { author: 'bob', kind: 'changes-requested', at: iso(OPENED_AT + HOUR_MS), body: 'Add a test.' });
    double.state.addReview(project, 1, { author: 'alice', kind: 'approved', at: iso(OPENED_AT + 2 * HOUR_MS) });
    const merged = double.state.mergeRequestMerged(project, 1, { at: iso(OPENED_AT + 3 * HOUR_MS) });
    // The target moves on after the merge; the request's commits stay what was merged.
    pushCommit('main', 'Later work on main');

    const activity = await client.activity(1, signal());

    expect(activity).toMatchObject({ state: 'merged', mergedAt: OPENED_AT + 3 * HOUR_MS, targetBranch: 'main', mergeCommitSha: merged.mergeCommitSha });
    expect(activity.commits).toHaveLength(2);
    const byAuthor = [...activity.reviews].sort((a, b) => a.author.localeCompare(b.author));
    expect(byAuthor).toEqual([
      { author: BOT, at: OPENED_AT, kind: 'commented' },
      { author: 'alice', at: OPENED_AT + 2 * HOUR_MS, kind: 'approved' },
      { author: 'bob', at: OPENED_AT + HOUR_MS, kind: changesRequestedKind },
    ].sort((a, b) => a.author.localeCompare(b.author)));
  });

  it('reads a request closed without a merge', async () => {
    await deliver();
    double.state.closeMergeRequest(project, 1, { at: iso(OPENED_AT + HOUR_MS) });
    await expect(client.activity(1, signal())).resolves.toMatchObject({ state: 'closed', closedAt: OPENED_AT + HOUR_MS, mergedAt: undefined, mergeCommitSha: undefined });
  });

  it('refuses an answer it cannot believe, and a request the forge does not have, without naming the token', async () => {
    await deliver();
    double.injectAnswers(1, { status: 200, body: { number: 1, state: 'open' } });
    await forgeFailureOf(client.activity(1, signal()), [TOKEN], 'refused');
    await forgeFailureOf(client.activity(7, signal()), [TOKEN], 'not-found');
    double.injectAnswers(1, { status: 200, body: { login: 'not a user name', username: 'not a user name' } });
    await forgeFailureOf(client.currentUser(signal()), [TOKEN], 'refused');
  });
});
