import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callDouble, createDoubleRepository, type DoubleAnswer } from './forge-api.fixture';
import { type ForgeApi, type ForgeDouble, startForgeDouble } from './forge-double';
import { giteaApi } from './gitea.api';
import { githubApi } from './github.api';
import { gitlabApi } from './gitlab.api';

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
const BOT_TOKEN = 'review-routes-bot-token';
const ALICE_TOKEN = 'review-routes-alice-token';

/**
 * The review routes of each flavour, placing comments against the real diff of the bare
 * repository: `topic` changes line 2 of `a.txt` (of 5) and adds `b.txt` (2 lines), so a.txt's
 * hunk shows lines 1..5 with 2 added, and b.txt lines 1..2 added.
 */
describe('the review routes of the forge double', () => {
  let root: string;
  let bare: string;
  let head: string;
  let double: ForgeDouble;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-review-routes-'));
    bare = createDoubleRepository(root, 'app.git', []);
    const work = mkdtempSync(join(root, 'work-'));
    git(work, 'clone', '--quiet', bare, '.');
    writeFileSync(join(work, 'a.txt'), 'one\ntwo\nthree\nfour\nfive\n');
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', 'a');
    git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    git(work, 'checkout', '--quiet', '-b', 'topic');
    writeFileSync(join(work, 'a.txt'), 'one\nTWO\nthree\nfour\nfive\n');
    writeFileSync(join(work, 'b.txt'), 'new\nfile\n');
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', 'topic');
    git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/topic');
    head = git(work, 'rev-parse', 'HEAD');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const start = async (api: ForgeApi, project: string) => {
    double = await startForgeDouble(api, { projects: { [project]: bare }, tokens: { [BOT_TOKEN]: 'bot', [ALICE_TOKEN]: 'alice' } });
    double.state.addMergeRequest({ project, sourceBranch: 'topic', targetBranch: 'main', title: 'Topic', body: '', labels: [], reviewers: [], draft: false, author: 'alice' });
  };
  afterEach(() => double.stop());

  describe('GitLab', () => {
    const project = 'group/app';
    const path = `/projects/${encodeURIComponent(project)}/merge_requests/1`;
    const call = (method: string, route: string, body?: unknown): Promise<DoubleAnswer> => callDouble(double, method, route, { body, headers: { 'PRIVATE-TOKEN': BOT_TOKEN } });
    beforeEach(() => start(gitlabApi, project));

    // https://docs.gitlab.com/api/merge_requests/#get-single-mr
    // https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff
    it("places a thread on a line the change added, by the request's diff_refs, and refuses any other position", async () => {
      const { json } = await call('GET', path);
      const refs = (json as { diff_refs: { base_sha: string; start_sha: string; head_sha: string } }).diff_refs;
      expect(refs.head_sha).toBe(head);
      const thread = (position: Record<string, unknown>) => call('POST', `${path}/discussions`, { body: 'Note.', position: { position_type: 'text', ...refs, new_path: 'a.txt', new_line: 2, ...position } });

      expect(await thread({})).toMatchObject({ status: 201, json: { individual_note: false, notes: [{ type: 'DiffNote', body: 'Note.', position: { new_path: 'a.txt', new_line: 2 } }] } });
      expect(await thread({ old_path: 'b.txt', new_path: 'b.txt', new_line: 1 })).toMatchObject({ status: 201 });
      for (const wrong of [{ new_line: 3 }, { new_path: 'c.txt' }, { head_sha: refs.base_sha }, { old_path: 'elsewhere.txt' }]) {
        expect(await thread(wrong)).toMatchObject({ status: 400, json: { message: expect.stringContaining('must be a valid line code') as unknown } });
      }
      expect(await call('POST', `${path}/discussions`, { body: 'Note.', position: { position_type: 'text' } })).toMatchObject({
        status: 400,
        json: { error: 'position[base_sha] is missing, position[start_sha] is missing, position[head_sha] is missing' },
      });
      expect(double.state.reviewComments.map(({ path: file, line }) => [file, line])).toEqual([
        ['a.txt', 2],
        ['b.txt', 1],
      ]);
    });

    // https://docs.gitlab.com/api/notes/#create-new-merge-request-note
    // https://docs.gitlab.com/api/notes/#list-all-merge-request-notes
    it('takes a note on the request as a whole and lists it among the notes', async () => {
      expect(await call('POST', `${path}/notes`, { body: '  ' })).toMatchObject({ status: 400, json: { message: { note: ["can't be blank"] } } });
      expect(await call('POST', `${path}/notes`, { body: 'Summary.' })).toMatchObject({ status: 201, json: { body: 'Summary.', system: false, author: { username: 'bot' } } });
      expect((await call('GET', `${path}/notes`)).json).toEqual([expect.objectContaining({ body: 'Summary.', system: false })]);
    });
  });

  describe('GitHub', () => {
    const project = 'acme/app';
    const reviews = `/repos/${project}/pulls/1/reviews`;
    const call = (body: unknown, token = BOT_TOKEN): Promise<DoubleAnswer> => callDouble(double, 'POST', reviews, { body, headers: { authorization: `Bearer ${token}` } });
    beforeEach(() => start(githubApi, project));

    // https://docs.github.com/en/enterprise-server@3.14/rest/pulls/reviews#create-a-review-for-a-pull-request
    it('submits a review whose comments sit on lines of the diff, context included, and refuses one outside it', async () => {
      const comment = (line: number, path = 'a.txt') => ({ path, line, side: 'RIGHT', body: `line ${line}` });
      expect(await call({ commit_id: head, event: 'COMMENT', body: 'Summary.', comments: [comment(2), comment(5)] })).toMatchObject({ status: 200, json: { state: 'COMMENTED', commit_id: head, body: 'Summary.' } });
      expect(await call({ event: 'COMMENT', body: 'x', comments: [comment(9)] })).toMatchObject({ status: 422, json: { errors: ['Line could not be resolved'] } });
      expect(await call({ event: 'COMMENT', body: 'x', comments: [comment(1, 'README.md')] })).toMatchObject({ status: 422, json: { errors: ['Path could not be resolved'] } });
      expect(await call({ event: 'COMMENT' })).toMatchObject({ status: 422 });
      expect(await call({ body: 'no event' })).toMatchObject({ status: 422, json: { message: expect.stringContaining('pending') as unknown } });
      expect(await call({ event: 'APPROVE' }, ALICE_TOKEN)).toMatchObject({ status: 422, json: { errors: ['Can not approve your own pull request'] } });
      expect(double.state.reviewComments.map(({ line }) => line)).toEqual([2, 5]);
      expect(double.state.reviews).toEqual([expect.objectContaining({ author: 'bot', kind: 'commented', body: 'Summary.' })]);
    });
  });

  describe('Gitea', () => {
    const project = 'acme/app';
    const reviews = `/repos/${project}/pulls/1/reviews`;
    const call = (body: unknown): Promise<DoubleAnswer> => callDouble(double, 'POST', reviews, { body, headers: { authorization: `token ${BOT_TOKEN}` } });
    beforeEach(() => start(giteaApi, project));

    // https://docs.gitea.com/api/1.22/#tag/repository/operation/repoCreatePullReview
    it("submits a review as Gitea's handler does: the event first, each line blamed at the head, a closed request refused", async () => {
      expect(await call({ event: 'COMMENT', body: '' })).toMatchObject({ status: 422, json: { message: 'review event COMMENT requires a body or a comment' } });
      expect(await call({ event: 'COMMENT', comments: [{ path: 'a.txt', body: 'x', new_position: 6 }] })).toMatchObject({ status: 500 });
      expect(await call({ event: 'COMMENT', comments: [{ path: 'a.txt', body: 'x', new_position: '2' }] })).toMatchObject({ status: 422 });
      expect(await call({ commit_id: head, event: 'COMMENT', body: 'Summary.', comments: [{ path: 'b.txt', body: 'New.', new_position: 2 }] })).toMatchObject({
        status: 200,
        json: { state: 'COMMENT', body: 'Summary.', commit_id: head, comments_count: 1 },
      });
      double.state.closeMergeRequest(project, 1);
      expect(await call({ event: 'COMMENT', body: 'Late.' })).toMatchObject({ status: 422, json: { message: "can't submit review for a closed or merged PR" } });
      expect(double.state.reviewComments.map(({ path, line, commitId }) => [path, line, commitId])).toEqual([['b.txt', 2, head]]);
    });
  });
});
