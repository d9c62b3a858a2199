import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ForgeDouble, gitlabApi, startForgeDouble } from '@airlock/local-stack';
import { FailureCode } from '@airlock/protocol';
import type { ForgeTokenSource, TrackerConfig } from '../config/worker-config.loader';
import { deliveryTargetOf } from '../delivery/delivery-target';
import type { PublishedDelivery } from '../jobs/phases/deliver.phase';
import { fakeJobContext } from '../jobs/pipeline/job-context.mock';
import type { InMemoryJobRecorder } from '../jobs/record/job-recorder.mock';
import { ticketCommentListener } from './ticket-comment.listener';
import { createTicketTracker } from './tracker.factory';

const PROJECT = 'pay/refunds';
const TOKEN = 'glpat-comment-listener-spec';
const WEB_URL = 'https://gitlab.corp.example/pay/refunds/-/merge_requests/3';

describe('ticketCommentListener against a GitLab double', () => {
  let root: string;
  let double: ForgeDouble;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-comment-listener-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(async () => {
    double = await startForgeDouble(gitlabApi, { projects: { [PROJECT]: root }, tokens: { [TOKEN]: 'airlock-bot' } });
    double.state.addIssue({ project: PROJECT, key: '42', title: 'Refunds round down', description: null });
  });
  afterEach(() => double.stop());

  const tracker = (overrides: { readonly comment?: boolean; readonly token?: ForgeTokenSource } = {}): TrackerConfig => ({
    name: 'issues',
    type: 'gitlab',
    apiUrl: double.apiUrl,
    project: PROJECT,
    token: { env: 'AIRLOCK_GITLAB_TOKEN', value: TOKEN },
    timeoutMs: 5_000,
    comment: true,
    ...overrides,
  });
  const delivered = (outcome: 'opened' | 'updated'): PublishedDelivery => ({
    target: deliveryTargetOf('job-1', 2, { deliveryJobId: '', deliveryGeneration: 0 }, 'airlock/'),
    published: { outcome, mergeRequest: { number: 3, webUrl: WEB_URL, state: 'open' } },
  });
  /** Runs the listener for a job whose task names `ticketRef` ('' for a typed ticket), with a real client per comment. */
  const hear = async (trackers: readonly TrackerConfig[], ticketRef: string, outcome: 'opened' | 'updated' = 'opened') => {
    const fake = ticketRef === '' ? fakeJobContext() : fakeJobContext({ ticketRef });
    const clientFor = (config: TrackerConfig) => createTicketTracker(config, { maxRetries: 0, retryBudgetMs: 0 });
    await ticketCommentListener(trackers, clientFor)(fake.ctx, delivered(outcome));
    return { logs: fake.logs, transcript: (fake.record as InMemoryJobRecorder).transcriptEntries };
  };
  const comments = () => double.state.issue(PROJECT, '42')?.comments.map((comment) => comment.body);

  it("posts the merge request's link on the ticket, opened or updated, and notes it in the job's record", async () => {
    const { transcript, logs } = await hear([tracker()], 'issues:42');
    await hear([tracker()], 'issues:42', 'updated');
    expect(comments()).toEqual([`Airlock opened a merge request for this ticket: ${WEB_URL}`, `Airlock updated a merge request for this ticket: ${WEB_URL}`]);
    expect(transcript).toEqual([{ kind: 'note', text: `ticket: commented on issues:42: Airlock opened a merge request for this ticket: ${WEB_URL}` }]);
    expect(logs.find((line) => line['event'] === 'ticket-commented')).toMatchObject({ tracker: 'issues', key: '42', outcome: 'opened' });
  });

  it('posts nothing for a tracker without comment: true, a typed ticket, or a tracker the catalog no longer has', async () => {
    await hear([tracker({ comment: false })], 'issues:42');
    await hear([tracker()], '');
    await hear([tracker()], 'other:42');
    expect(comments()).toEqual([]);
    expect(double.requests).toEqual([]);
  });

  it('logs a comment the tracker refused, and lets the delivery stand', async () => {
    const { logs, transcript } = await hear([tracker({ token: { env: 'AIRLOCK_GITLAB_TOKEN', value: 'glpat-wrong-token' } })], 'issues:42');
    const failed = logs.find((line) => line['event'] === 'ticket-comment-failed');
    expect(failed).toMatchObject({ tracker: 'issues', key: '42', failureCode: FailureCode.TRACKER_AUTH_FAILED });
    expect(JSON.stringify(logs)).not.toContain('glpat-wrong-token');
    expect(transcript).toEqual([]);

    double.down();
    const down = await hear([tracker()], 'issues:42');
    expect(down.logs.find((line) => line['event'] === 'ticket-comment-failed')).toMatchObject({ failureCode: FailureCode.TRACKER_UNAVAILABLE });
  });
});
