import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callDouble, createDoubleRepository, type DoubleAnswer } from './forge-api.fixture';
import { type ForgeApi, type ForgeDouble, startForgeDouble } from './forge-double';
import { giteaApi } from './gitea.api';
import { githubApi } from './github.api';
import { gitlabApi } from './gitlab.api';

const PROJECT = 'acme/app';
const TOKEN = 'double-activity-spec-token';
const BOT = 'airlock-bot';
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Alice', GIT_AUTHOR_EMAIL: 'alice@example.com', GIT_COMMITTER_NAME: 'Alice', GIT_COMMITTER_EMAIL: 'alice@example.com' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();

/** Each flavour's routes for one request: its token header, and the paths of the request, its commits and reviews. */
interface Flavour {
  readonly api: ForgeApi;
  readonly headers: Record<string, string>;
  readonly request: string;
  readonly commits: string;
  readonly reviews: string;
}

const FLAVOURS: ReadonlyArray<[string, Flavour]> = [
  ['gitlab', { api: gitlabApi, headers: { 'PRIVATE-TOKEN': TOKEN }, request: `/projects/${encodeURIComponent(PROJECT)}/merge_requests/1`, commits: `/projects/${encodeURIComponent(PROJECT)}/merge_requests/1/commits`, reviews: `/projects/${encodeURIComponent(PROJECT)}/merge_requests/1/notes` }],
  ['github', { api: githubApi, headers: { authorization: `Bearer ${TOKEN}` }, request: `/repos/${PROJECT}/pulls/1`, commits: `/repos/${PROJECT}/pulls/1/commits`, reviews: `/repos/${PROJECT}/pulls/1/reviews` }],
  ['gitea', { api: giteaApi, headers: { authorization: `token ${TOKEN}` }, request: `/repos/${PROJECT}/pulls/1`, commits: `/repos/${PROJECT}/pulls/1/commits`, reviews: `/repos/${PROJECT}/pulls/1/reviews` }],
];

describe.each(FLAVOURS)('the %s double: what became of a request', (_name, flavour) => {
  let root: string;
  let bare: string;
  let double: ForgeDouble;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'airlock-double-activity-'));
    bare = createDoubleRepository(root, 'app.git', ['topic']);
    double = await startForgeDouble(flavour.api, { projects: { [PROJECT]: bare }, tokens: { [TOKEN]: BOT }, users: ['alice', 'bob'], defaultPageSize: 2 });
    double.state.addMergeRequest({ project: PROJECT, sourceBranch: 'topic', targetBranch: 'main', title: 'A change', body: '', labels: [], reviewers: [], draft: false, author: BOT });
  });
  afterEach(async () => {
    await double.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const call = (path: string): Promise<DoubleAnswer> => callDouble(double, 'GET', path, { headers: flavour.headers });
  /** Every item of a listing, following the double's `Link: rel="next"` as a client would. */
  const listAll = async (path: string): Promise<Array<Record<string, unknown>>> => {
    const items: Array<Record<string, unknown>> = [];
    for (let next: string | undefined = path; next !== undefined; ) {
      const answer = await call(next);
      expect(answer.status).toBe(200);
      items.push(...(answer.json as Array<Record<string, unknown>>));
      next = /<([^>]+)>;\s*rel="next"/.exec(answer.headers.get('link') ?? '')?.[1];
    }
    return items;
  };
  /** Pushes one commit with `message` onto `branch` of the bare repository. */
  const pushCommit = (branch: string, message: string): string => {
    const work = mkdtempSync(join(root, 'work-'));
    git(work, 'clone', '--quiet', '--branch', branch, bare, '.');
    writeFileSync(join(work, `${Date.now()}-${Math.random()}.txt`), message);
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', message);
    git(work, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
    return git(work, 'rev-parse', 'HEAD');
  };
  const messagesOf = (commits: Array<Record<string, unknown>>) => commits.map((commit) => ('message' in commit ? commit['message'] : (commit['commit'] as Record<string, unknown>)['message']));

  // https://docs.gitlab.com/api/users/#retrieve-the-current-user
  // https://docs.github.com/en/enterprise-server@3.14/rest/users/users#get-the-authenticated-user
  // https://docs.gitea.com/api/1.22/#tag/user/operation/userGetCurrent
  it("answers the token's own user", async () => {
    const answer = await call('/user');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject(flavour.api === gitlabApi ? { username: BOT } : { login: BOT });
  });

  // https://docs.gitlab.com/api/merge_requests/#get-single-mr-commits
  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/pulls#list-commits-on-a-pull-request
  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoGetPullRequestCommits
  it('lists the commits between target and source with full messages, paged, and still after the merge', async () => {
    const airlock = pushCommit('topic', 'Fix the login\n\nAirlock-Job: 3f1c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f\n');
    const person = pushCommit('topic', 'Rework the fix');
    const third = pushCommit('topic', 'Tidy up');
    const expected = new Set(['Fix the login\n\nAirlock-Job: 3f1c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f\n', 'Rework the fix\n', 'Tidy up\n']);
    expect(new Set(messagesOf(await listAll(flavour.commits)))).toEqual(expected);

    const merged = double.state.mergeRequestMerged(PROJECT, 1, { at: '2030-01-02T03:04:05.000Z' });
    // A real merge: main now holds a merge commit whose second parent is the source's tip.
    expect(git(bare, 'rev-parse', 'refs/heads/main')).toBe(merged.mergeCommitSha);
    expect(git(bare, 'rev-parse', `${merged.mergeCommitSha}^2`)).toBe(third);
    expect(git(bare, 'merge-base', '--is-ancestor', airlock, 'refs/heads/main')).toBe('');
    expect(new Set(messagesOf(await listAll(flavour.commits)))).toEqual(expected);
    expect((await listAll(flavour.commits)).map((commit) => commit['sha'] ?? commit['id'])).toContain(person);

    const request = (await call(flavour.request)).json as Record<string, unknown>;
    expect(request['merge_commit_sha']).toBe(merged.mergeCommitSha);
    expect(String(request['merged_at'])).toMatch(/^2030-01-02T03:04:05(\.000)?Z$/);
  });

  // https://docs.gitlab.com/api/notes/#list-all-merge-request-notes
  // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/reviews#list-reviews-for-a-pull-request
  // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoListPullReviews
  it("answers people's reviews in the flavour's words, each with its author and time", async () => {
    double.state.addReview(PROJECT, 1, { author: 'alice', kind: 'commented', at: '2030-01-01T01:00:00.000Z', body: 'Why this way?' });
    double.state.addReview(PROJECT, 1, { author: 'bob', kind: 'changes-requested', at: '2030-01-01T02:00:00.000Z', body: 'Please add a test.' });
    double.state.addReview(PROJECT, 1, { author: 'alice', kind: 'approved', at: '2030-01-01T03:00:00.000Z' });
    const listed = await listAll(flavour.reviews);

    if (flavour.api === gitlabApi) {
      // Newest first; the approval and the request for changes leave system notes in the person's name.
      expect(listed.map((note) => [(note['author'] as Record<string, unknown>)['username'], note['system'], note['created_at']])).toEqual([
        ['alice', true, '2030-01-01T03:00:00.000Z'],
        ['bob', false, '2030-01-01T02:00:00.000Z'],
        ['bob', true, '2030-01-01T02:00:00.000Z'],
        ['alice', false, '2030-01-01T01:00:00.000Z'],
      ]);
      const approvals = (await call(`/projects/${encodeURIComponent(PROJECT)}/merge_requests/1/approvals`)).json as Record<string, unknown>;
      expect(approvals['approved_by']).toEqual([{ user: expect.objectContaining({ username: 'alice' }), approved_at: '2030-01-01T03:00:00.000Z' }]);
      return;
    }
    const states = flavour.api === githubApi ? ['COMMENTED', 'CHANGES_REQUESTED', 'APPROVED'] : ['COMMENT', 'REQUEST_CHANGES', 'APPROVED'];
    expect(listed.map((review) => [(review['user'] as Record<string, unknown>)['login'], review['state'], review['submitted_at']])).toEqual([
      ['alice', states[0], '2030-01-01T01:00:00Z'],
      ['bob', states[1], '2030-01-01T02:00:00Z'],
      ['alice', states[2], '2030-01-01T03:00:00Z'],
    ]);
  });

  it('closes a request without merging it, and refuses to merge or review what it does not hold', async () => {
    double.state.closeMergeRequest(PROJECT, 1, { at: '2030-01-03T00:00:00.000Z' });
    expect(double.state.mergeRequest(PROJECT, 1)).toMatchObject({ state: 'closed', closedAt: '2030-01-03T00:00:00.000Z', mergedAt: null });
    expect(() => double.state.mergeRequestMerged(PROJECT, 1)).toThrow('no open request 1');
    expect(() => double.state.addReview(PROJECT, 2, { author: 'alice', kind: 'approved' })).toThrow('no request 2');
    expect(() => double.state.addReview(PROJECT, 1, { author: 'mallory', kind: 'approved' })).toThrow('no user mallory');
  });
});
