import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type ForgeApi, type ForgeDouble, giteaApi, githubApi, gitlabApi, type RecordedForgeRequest, startForgeDouble } from '@airlock/local-stack';
import type { ForgeConfig } from '../../config/worker-config.loader';
import { git } from '../../testing/git-fixture.mock';
import type { ClosableForgeClient, ForgeFailure, ReviewLineComment } from './forge-client';
import { createForgeClient } from './forge.factory';
import { createForgeRepository, forgeConfigOf, forgeFailureOf } from './forge-test.fixture';

// A review's reads and writes on each forge, against its double over real HTTP and a real bare
// repository whose diff the double places each comment against. The routes each test exercises:
// GitLab  https://docs.gitlab.com/api/merge_requests/#get-single-mr
//         https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff
//         https://docs.gitlab.com/api/notes/#create-new-merge-request-note
// GitHub  https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#get-a-pull-request
//         https://docs.github.com/en/enterprise-server@3.14/rest/pulls/reviews#create-a-review-for-a-pull-request
// Gitea   https://docs.gitea.com/api/1.22/#tag/repository/operation/repoGetPullRequest
//         https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullReview

const BOT = 'airlock-bot';
const TOKEN = `forge-review-${randomBytes(12).toString('hex')}`;
const BRANCH = `feature/${randomUUID()}`;
const DELIVERY = { maxRetries: 0, retryBudgetMs: 0 };
const TITLE = 'Total the invoice';
const DESCRIPTION = 'Adds a total to the billing module.';
const SUMMARY = '**Airlock review**: 2 comments.';
const COMMENTS: readonly ReviewLineComment[] = [
  { path: 'src/total.js', line: 3, body: '**major**: the total ignores the discount.' },
  { path: 'README.md', line: 2, body: '**info**: name the function too.' },
];

/**
 * Each flavour: its API, its project and a fork's, and a comment the forge refuses to place
 * with the failure it makes — GitLab and GitHub place comments by the diff, Gitea only blames
 * the line (a line past the end of the file is its 500).
 */
const FLAVOURS: ReadonlyArray<[ForgeConfig['type'], ForgeApi, string, string, ReviewLineComment, ForgeFailure, number]> = [
  ['gitlab', gitlabApi, 'platform/payments', 'forker/payments', { path: 'README.md', line: 1, body: 'an unchanged line' }, 'refused', 400],
  ['github', githubApi, 'acme/payments', 'forker/payments', { path: 'LICENSE', line: 1, body: 'a file the change does not touch' }, 'refused', 422],
  ['gitea', giteaApi, 'acme/payments', 'forker/payments', { path: 'src/total.js', line: 40, body: 'past the end of the file' }, 'unavailable', 500],
];

describe.each(FLAVOURS)('the %s client finds a request to review and posts a review on it', (type, api, project, forkProject, misplaced, misplacedFailure, misplacedStatus) => {
  let root: string;
  let bare: string;
  let head: string;
  let double: ForgeDouble;
  let client: ClosableForgeClient;
  const signal = () => AbortSignal.timeout(30_000);
  const routes = () => double.requests.map((request: RecordedForgeRequest) => `${request.method} ${request.path} ${request.status}`);

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), `airlock-${type}-review-`));
    bare = createForgeRepository(root, 'payments.git', []);
    // The change: a new file of three lines, and a second line in the README.
    const work = mkdtempSync(join(root, 'work-'));
    git(work, 'clone', '--quiet', '--branch', 'main', bare, '.');
    git(work, 'checkout', '--quiet', '-b', BRANCH);
    for (const [path, text] of Object.entries({ 'src/total.js': 'const net = 100;\nconst tax = 20;\nmodule.exports = net + tax;\n', 'README.md': 'payments.git\nSee src/total.js.\n' })) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), text);
    }
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', 'Total the invoice');
    git(work, 'push', '--quiet', 'origin', `HEAD:refs/heads/${BRANCH}`);
    head = git(work, 'rev-parse', 'HEAD').trim();
    const fork = join(root, 'fork.git');
    git(root, 'clone', '--quiet', '--bare', bare, fork);
    double = await startForgeDouble(api, { projects: { [project]: bare, [forkProject]: fork }, tokens: { [TOKEN]: BOT }, users: ['alice'] });
    double.state.addMergeRequest({ project, sourceBranch: BRANCH, targetBranch: 'main', title: TITLE, body: DESCRIPTION, labels: [], reviewers: [], draft: false, author: 'alice' });
    double.state.addMergeRequest({ project, sourceProject: forkProject, sourceBranch: BRANCH, targetBranch: 'main', title: 'From a fork', body: '', labels: [], reviewers: [], draft: false, author: 'alice' });
    client = createForgeClient(forgeConfigOf({ type, apiUrl: double.apiUrl, project, token: { env: 'AIRLOCK_FORGE_TOKEN', value: TOKEN } }), DELIVERY);
  });
  afterEach(async () => {
    await client.close();
    await double.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("reads a request's branches, head commit, title and description, and tells a fork's request by its source repository", async () => {
    await expect(client.getMergeRequest(1, signal())).resolves.toEqual({
      request: { number: 1, webUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) as unknown, state: 'open' },
      title: TITLE,
      description: DESCRIPTION,
      sourceBranch: BRANCH,
      targetBranch: 'main',
      headSha: head,
      fromSameRepository: true,
    });
    await expect(client.getMergeRequest(2, signal())).resolves.toMatchObject({ sourceBranch: BRANCH, headSha: head, fromSameRepository: false });
    await forgeFailureOf(client.getMergeRequest(9, signal()), [TOKEN], 'not-found');
    double.injectAnswers(1, { status: 200, body: { number: 1, iid: 1, state: 'open', html_url: 'javascript:alert(1)', web_url: 'javascript:alert(1)' } });
    await forgeFailureOf(client.getMergeRequest(1, signal()), [TOKEN], 'refused');
  });

  it('posts each comment on its line of the head commit, and the summary, as the token user', async () => {
    await client.postReview(1, { headSha: head, summary: SUMMARY, comments: COMMENTS }, signal());

    const mr = double.state.mergeRequest(project, 1);
    if (mr === undefined) throw new Error('the double lost the request');
    const posted = double.state.reviewCommentsOf(mr).map(({ author, path, line, commitId, body }) => ({ author, path, line, commitId, body }));
    expect(posted).toEqual(
      expect.arrayContaining([
        { author: BOT, path: 'src/total.js', line: 3, commitId: head, body: COMMENTS[0]?.body },
        { author: BOT, path: 'README.md', line: 2, commitId: head, body: COMMENTS[1]?.body },
      ]),
    );
    if (type === 'gitlab') {
      // No review object on GitLab: a thread per comment, then one note on the request.
      expect(posted).toHaveLength(3);
      expect(posted[2]).toEqual({ author: BOT, path: null, line: null, commitId: null, body: SUMMARY });
      expect(routes().filter((route) => route.startsWith('POST'))).toEqual([
        `POST /api/v4/projects/${encodeURIComponent(project)}/merge_requests/1/discussions 201`,
        `POST /api/v4/projects/${encodeURIComponent(project)}/merge_requests/1/discussions 201`,
        `POST /api/v4/projects/${encodeURIComponent(project)}/merge_requests/1/notes 201`,
      ]);
      expect(double.requests.find((request) => request.path.endsWith('/discussions'))?.body).toMatchObject({
        body: COMMENTS[0]?.body,
        position: { position_type: 'text', head_sha: head, new_path: 'src/total.js', old_path: 'src/total.js', new_line: 3 },
      });
    } else {
      // One review holding every comment, its body the summary.
      expect(posted).toHaveLength(2);
      expect(double.state.reviewsOf(mr)).toEqual([expect.objectContaining({ author: BOT, kind: 'commented', body: SUMMARY })]);
      const prefix = type === 'github' ? '/api/v3' : '/api/v1';
      expect(routes().filter((route) => route.startsWith('POST'))).toEqual([`POST ${prefix}/repos/${project}/pulls/1/reviews 200`]);
      const line = type === 'github' ? { line: 3, side: 'RIGHT' } : { new_position: 3 };
      expect(double.requests.at(-1)?.body).toEqual({
        commit_id: head,
        event: 'COMMENT',
        body: SUMMARY,
        comments: [
          { path: 'src/total.js', body: COMMENTS[0]?.body, ...line },
          expect.objectContaining({ path: 'README.md', body: COMMENTS[1]?.body }),
        ],
      });
    }
  });

  it('is refused a comment the forge cannot place, without naming the token', async () => {
    const error = await forgeFailureOf(client.postReview(1, { headSha: head, summary: SUMMARY, comments: [misplaced] }, signal()), [TOKEN], misplacedFailure);
    expect(error.status).toBe(misplacedStatus);
    const mr = double.state.mergeRequest(project, 1);
    expect(mr && double.state.reviewCommentsOf(mr)).toEqual([]);
  });
});

describe('the gitlab client posting a review', () => {
  let root: string;
  let double: ForgeDouble;
  let client: ClosableForgeClient;
  const project = 'platform/payments';

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'airlock-gitlab-review-moved-'));
    const bare = createForgeRepository(root, 'payments.git', [BRANCH]);
    double = await startForgeDouble(gitlabApi, { projects: { [project]: bare }, tokens: { [TOKEN]: BOT } });
    double.state.addMergeRequest({ project, sourceBranch: BRANCH, targetBranch: 'main', title: TITLE, body: '', labels: [], reviewers: [], draft: false, author: BOT });
    client = createForgeClient(forgeConfigOf({ type: 'gitlab', apiUrl: double.apiUrl, project, token: { env: 'AIRLOCK_FORGE_TOKEN', value: TOKEN } }), DELIVERY);
  });
  afterEach(async () => {
    await client.close();
    await double.stop();
    rmSync(root, { recursive: true, force: true });
  });

  // https://docs.gitlab.com/api/merge_requests/#get-single-mr (diff_refs)
  it('refuses to post lines numbered in a commit the request has moved past, posting nothing', async () => {
    const stale = 'f'.repeat(40);
    await forgeFailureOf(client.postReview(1, { headSha: stale, summary: SUMMARY, comments: [{ path: 'fix.ts', line: 1, body: 'x' }] }, AbortSignal.timeout(30_000)), [TOKEN], 'conflict');
    expect(double.requests.filter((request) => request.method === 'POST')).toEqual([]);
  });
});
