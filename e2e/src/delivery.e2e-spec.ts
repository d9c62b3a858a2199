import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_BRANCH_BASE, DEMO_FORGE_BOT, DEMO_FORGE_PROJECT, DEMO_REPO_ALIAS, DEMO_TICKET, type ForgeFlavour } from '@airlock/local-stack';
import { findInDatabase } from './support/canary-scan';
import { startE2eStack, type E2eStack } from './support/e2e-stack';

/**
 * Delivery where teams work: the worker pushes its branch to the customer's git server and
 * opens, or on a re-run updates, a merge request on the customer's forge — a double of ours
 * that speaks the forge's real REST routes (libs/local-stack/src/forge), since no GitLab,
 * GitHub Enterprise Server or Gitea can be installed here. None of it reaches the control
 * plane but the kind of delivery.
 */
const LABELS = ['airlock', 'needs-review'];

const tipMessage = (stack: E2eStack, branch: string) =>
  execFileSync('git', ['--git-dir', stack.demoRepositoryPath, 'log', '-1', '--format=%B', `refs/heads/${branch}`], { encoding: 'utf8' });

describe('merge requests on a GitLab forge', () => {
  let stack: E2eStack;
  let firstJobId: string;

  beforeAll(async () => {
    stack = await startE2eStack('delivery', { forge: { flavour: 'gitlab', labels: LABELS, reviewers: ['alice'] } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('opens a merge request from the job branch to the base branch, with the configured labels and reviewers', async () => {
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    firstJobId = job.id;
    const done = await stack.api.waitForTerminalJob(job.id, 120_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.result).toMatchObject({ delivery: 'MERGE_REQUEST_OPENED' });

    const forge = stack.forge!;
    expect(forge.state.mergeRequests).toHaveLength(1);
    const [request] = forge.state.mergeRequests;
    expect(request).toMatchObject({
      project: DEMO_FORGE_PROJECT,
      sourceBranch: `airlock/${job.id}`,
      targetBranch: DEMO_BRANCH_BASE,
      title: DEMO_TICKET.title,
      labels: LABELS,
      reviewers: ['alice'],
      draft: false,
      state: 'open',
      author: DEMO_FORGE_BOT,
    });
    // Written inside the network: the ticket, the change and the tests it passed.
    expect(request?.body).toContain(DEMO_TICKET.description);
    expect(request?.body).toMatch(/test/i);
    expect(request?.body).toContain(job.id);
    // Every call carried the worker's token in GitLab's own header.
    expect(forge.requests.length).toBeGreaterThan(0);
    expect(forge.requests.every((call) => typeof call.headers['private-token'] === 'string' && call.status < 400)).toBe(true);
  });

  it('a re-run of the job updates the same merge request instead of opening a second one', async () => {
    const rerun = await stack.api.rerunJob(firstJobId);
    const done = await stack.api.waitForTerminalJob(rerun.id, 120_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.result).toMatchObject({ delivery: 'MERGE_REQUEST_UPDATED' });

    const forge = stack.forge!;
    expect(forge.state.mergeRequests).toHaveLength(1);
    expect(forge.state.mergeRequests[0]?.body).toContain(rerun.id);
    // The re-run's commit replaced the first job's on the first job's branch: generation 1 after generation 0.
    const message = tipMessage(stack, `airlock/${firstJobId}`);
    expect(message).toContain(`Airlock-Job: ${rerun.id}`);
    expect(message).toContain('Airlock-Generation: 1');
  });

  it('keeps the change in the worker outbox, and fails FORGE_UNAVAILABLE, when the forge is down', async () => {
    const forge = stack.forge!;
    forge.down();
    try {
      const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
      const done = await stack.api.waitForTerminalJob(job.id, 180_000);
      expect(done).toMatchObject({ status: 'FAILED', failureCode: 'FORGE_UNAVAILABLE', result: { delivery: 'OUTBOX' } });

      const entry = join(stack.worker.stateDir, 'delivery-outbox', job.id);
      const record = JSON.parse(readFileSync(join(entry, 'record.json'), 'utf8')) as Record<string, unknown>;
      expect(record).toMatchObject({ jobId: job.id, state: 'pushed', failureCode: 'FORGE_UNAVAILABLE' });
      for (const file of ['change.bundle', 'change.patch', 'merge-request.md']) expect(existsSync(join(entry, file))).toBe(true);
      // The branch itself reached the git server; only the request is missing.
      expect(tipMessage(stack, `airlock/${job.id}`)).toContain(`Airlock-Job: ${job.id}`);
    } finally {
      forge.up();
    }
  });

  it('lets nothing of the merge requests reach the control plane: no forge address, no request body', async () => {
    const forge = stack.forge!;
    const bodyLine = forge.state.mergeRequests[0]?.body.split('\n').find((line) => line.includes('Airlock job'));
    expect(bodyLine).toBeDefined();
    expect(await findInDatabase(stack.databaseUrl, forge.origin)).toEqual([]);
    expect(await findInDatabase(stack.databaseUrl, `${DEMO_FORGE_PROJECT}`)).toEqual([]);
    expect(await findInDatabase(stack.databaseUrl, bodyLine ?? '')).toEqual([]);
  });
});

describe.each<ForgeFlavour>(['github', 'gitea'])('a pull request on a %s forge', (flavour) => {
  let stack: E2eStack;

  beforeAll(async () => {
    stack = await startE2eStack(`delivery_${flavour}`, { forge: { flavour, labels: LABELS, reviewers: ['bob'], draft: true } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('is opened as a draft from the job branch to the base branch, with the labels and reviewer', async () => {
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    const done = await stack.api.waitForTerminalJob(job.id, 120_000);
    expect(done).toMatchObject({ status: 'SUCCEEDED', result: { delivery: 'MERGE_REQUEST_OPENED' } });
    expect(stack.forge!.state.mergeRequests).toEqual([
      expect.objectContaining({ sourceBranch: `airlock/${job.id}`, targetBranch: DEMO_BRANCH_BASE, labels: LABELS, reviewers: ['bob'], draft: true, state: 'open', author: DEMO_FORGE_BOT }),
    ]);
  });
});
