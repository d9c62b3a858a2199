import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_BRANCH_BASE, DEMO_FORGE_PROJECT, DEMO_REPO_ALIAS, DEMO_TICKET } from '@airlock/local-stack';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { eventually } from './support/job-progress';

/**
 * What became of a delivered change, as a manager sees it: the worker watches its merge
 * request on the customer's forge and reports states, counts and durations only. Here a
 * person reworks the change (a commit of theirs on the branch), asks for changes, merges it,
 * and later reverts it on the base branch; the control plane ends up with MERGED, one
 * person's commit, one review round and reverted — and nothing else about it.
 */
describe('the outcome of a merge request on the forge', () => {
  let stack: E2eStack;
  let work: string;

  /** A person's clone of the demo repository, to push as they would. */
  const person = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 'Alice', GIT_AUTHOR_EMAIL: 'alice@example.test', GIT_COMMITTER_NAME: 'Alice', GIT_COMMITTER_EMAIL: 'alice@example.test' },
    }).trim();

  beforeAll(async () => {
    stack = await startE2eStack('delivery_outcome', { forge: { flavour: 'gitlab' }, workerDelivery: { watch: { interval: '1s' } } });
    work = mkdtempSync(join(tmpdir(), 'airlock-outcome-person-'));
  });

  afterAll(async () => {
    await stack?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('reports the merge, the rework, the review and the revert as counts and states', async () => {
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    expect((await stack.api.waitForTerminalJob(job.id, 120_000)).status).toBe('SUCCEEDED');
    const outcomeOf = async () => ((await stack.api.job(job.id)) as unknown as { deliveryOutcome: Record<string, unknown> | null }).deliveryOutcome;
    await eventually('the worker reported the open request', async () => (await outcomeOf())?.['state'] === 'OPEN', 60_000);

    const forge = stack.forge!;
    const [request] = forge.state.mergeRequests;
    const branch = `airlock/${job.id}`;
    // A person reworks the change on its branch…
    person('clone', '--quiet', '--branch', branch, '--', stack.demoRepositoryPath, '.');
    writeFileSync(join(work, 'REVIEW-NOTES.md'), 'Checked the rounding by hand.\n');
    person('add', 'REVIEW-NOTES.md');
    person('commit', '--quiet', '-m', 'Add review notes');
    person('push', '--quiet', 'origin', `HEAD:${branch}`);
    // …asks for changes, then merges it.
    forge.state.addReview(DEMO_FORGE_PROJECT, request!.number, { author: 'alice', kind: 'changes-requested' });
    const merged = forge.state.mergeRequestMerged(DEMO_FORGE_PROJECT, request!.number);
    await eventually('the worker reported the merge', async () => (await outcomeOf())?.['state'] === 'MERGED', 60_000);

    // Later the change is reverted on the base branch.
    person('fetch', '--quiet', 'origin', DEMO_BRANCH_BASE);
    person('checkout', '--quiet', '-B', DEMO_BRANCH_BASE, `origin/${DEMO_BRANCH_BASE}`);
    person('revert', '--no-edit', '-m', '1', merged.mergeCommitSha!);
    person('push', '--quiet', 'origin', `HEAD:${DEMO_BRANCH_BASE}`);
    await eventually('the worker reported the revert', async () => (await outcomeOf())?.['reverted'] === true, 60_000);

    const outcome = await outcomeOf();
    expect(outcome).toMatchObject({ state: 'MERGED', humanCommits: 1, reviewRounds: 1, reverted: true, final: false, metadataLevel: 'METADATA_LEVEL_STANDARD' });
    expect(outcome?.['mergedAfterS']).toEqual(expect.any(Number));
    expect(outcome?.['firstReviewAfterS']).toEqual(expect.any(Number));
    // Counts and states only: nothing of the request's text, the person or the branch.
    expect(JSON.stringify(outcome)).not.toMatch(/alice|REVIEW-NOTES|airlock\/|Add review notes/i);
  });
});
