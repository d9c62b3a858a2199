import { DEMO_BRANCH_BASE, DEMO_REPO_ALIAS, DEMO_TICKET, DEMO_TICKET_KEYS, demoTicketRef, type JobView } from '@airlock/local-stack';
import { findInDatabase } from './support/canary-scan';
import { startE2eStack, type E2eStack } from './support/e2e-stack';

/**
 * A ticket named by reference: the job names `tickets:BILL-42`, the worker reads the ticket
 * from the customer's Jira (a double of ours speaking Jira Data Center's REST API) inside the
 * network, fixes it, opens the merge request and comments its link on the ticket. The
 * control plane never holds the ticket's text, and once the job ended not even the
 * reference: only the worker's keyed digest of it.
 */
describe('a ticket named by reference', () => {
  let stack: E2eStack;

  beforeAll(async () => {
    stack = await startE2eStack('ticket_reference', { forge: { flavour: 'gitlab' }, tracker: { flavour: 'jira', comment: true } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('is read from the tracker by the worker, fixed, and answered with the merge request link; its text never reaches the control plane', async () => {
    const ticketRef = demoTicketRef('jira');
    const created = await stack.api.request<JobView & { message?: string }>('POST', '/jobs', { kind: 'fix', repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticketRef });
    expect(created.status).toBe(201);
    const done = (await stack.api.waitForTerminalJob(created.body.id, 120_000)) as JobView & Record<string, unknown>;
    expect(done).toMatchObject({ status: 'SUCCEEDED', ticketByReference: true, ticketRef: null, result: { delivery: 'MERGE_REQUEST_OPENED' } });
    expect(done['ticketRefMac']).toMatch(/^[0-9a-f]{64}$/);

    // Inside the network: the request carries the ticket as the tracker holds it, and the ticket the request's link.
    const [request] = stack.forge!.state.mergeRequests;
    expect(request?.title).toBe(DEMO_TICKET.title);
    expect(request?.body).toContain(DEMO_TICKET.description);
    const [issue] = stack.tracker!.state.issues;
    expect(issue?.key).toBe(DEMO_TICKET_KEYS.jira);
    const requestLink = `${stack.forge!.origin}/${request?.project ?? ''}/-/merge_requests/${request?.number ?? 0}`;
    expect(issue?.comments.map((comment) => comment.body)).toEqual([expect.stringContaining(requestLink)]);

    // The control plane: neither the ticket's text nor, now that the job has ended, its reference.
    expect(await findInDatabase(stack.databaseUrl, DEMO_TICKET.title)).toEqual([]);
    expect(await findInDatabase(stack.databaseUrl, DEMO_TICKET.description.slice(0, 60))).toEqual([]);
    expect(await findInDatabase(stack.databaseUrl, ticketRef)).toEqual([]);
    expect(await findInDatabase(stack.databaseUrl, String(done['ticketRefMac']))).not.toEqual([]);
  });
});
