import { DEMO_BRANCH_BASE, DEMO_REPO_ALIAS, DEMO_REVIEW_COMMENTS, DEMO_TICKET, type JobView } from '@airlock/local-stack';
import { findInDatabase } from './support/canary-scan';
import { startE2eStack, type E2eStack } from './support/e2e-stack';

/**
 * The two job kinds besides fixes. `index` builds the context engine's index of a branch
 * ahead of fix jobs; `review` has the model review a merge request and posts its comments
 * on the customer's forge (a GitLab double), where only their counts by severity cross.
 */
describe('index and review jobs', () => {
  let stack: E2eStack;

  beforeAll(async () => {
    stack = await startE2eStack('review_index', { forge: { flavour: 'gitlab' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const create = async (body: Record<string, unknown>): Promise<JobView> => {
    const created = await stack.api.request<JobView & { message?: string }>('POST', '/jobs', { repoAlias: DEMO_REPO_ALIAS, ...body });
    expect({ status: created.status, message: created.body.message }).toEqual({ status: 201, message: undefined });
    return stack.api.waitForTerminalJob(created.body.id, 120_000);
  };

  it('an index job builds the index of the base branch, and the next one finds it cached', async () => {
    const built = await create({ kind: 'index', ref: DEMO_BRANCH_BASE });
    expect(built.status).toBe('SUCCEEDED');
    await stack.worker.process.waitForEvent((e) => e.event === 'context-index-built' && e['jobId'] === built.id, 10_000);
    const reused = await create({ kind: 'index', ref: DEMO_BRANCH_BASE });
    expect(reused.status).toBe('SUCCEEDED');
    await stack.worker.process.waitForEvent((e) => e.event === 'context-index-reused' && e['jobId'] === reused.id, 10_000);
  });

  it('a review job posts the model\'s comments on the merge request and reports only their counts', async () => {
    const fix = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    expect((await stack.api.waitForTerminalJob(fix.id, 120_000)).status).toBe('SUCCEEDED');
    const [request] = stack.forge!.state.mergeRequests;

    const review = await create({ kind: 'review', mergeRequest: request!.number });
    expect(review).toMatchObject({ status: 'SUCCEEDED', result: { review: { critical: 0, major: 1, minor: 1, info: 0, dropped: 1 } } });

    // On the forge: the two comments on lines the change touched, at those lines; the third (line 5) was not posted.
    const inline = stack.forge!.state.reviewComments.filter((comment) => comment.path !== null);
    const expected = DEMO_REVIEW_COMMENTS.filter((comment) => comment.severity !== 'info');
    expect(inline.map((comment) => [comment.path, comment.line])).toEqual(expect.arrayContaining(expected.map((comment) => [comment.path, comment.line])));
    expect(inline).toHaveLength(expected.length);
    // In the control plane: the counts, never a comment.
    for (const comment of DEMO_REVIEW_COMMENTS) expect(await findInDatabase(stack.databaseUrl, comment.body.slice(0, 40))).toEqual([]);
  });
});
