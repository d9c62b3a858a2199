import { type ForgeDouble, jiraApi, startForgeDouble } from '@airlock/local-stack';
import { FailureCode, Phase, PhaseState } from '@airlock/protocol';
import type { TrackerConfig } from '../../config/worker-config.loader';
import { JiraTracker } from '../../tickets/jira.tracker';
import type { TicketTracker } from '../../tickets/ticket-tracker';
import { keyedMac } from '../job-result.builder';
import { fakeJobContext } from '../pipeline/job-context.mock';
import { PhaseRunner } from '../pipeline/phase-runner';
import type { InMemoryJobRecorder } from '../record/job-recorder.mock';
import { DESCRIPTION_CUT_MARKER, MAX_TICKET_DESCRIPTION_BYTES, MAX_TICKET_TITLE_CHARS, TicketPhase, type TrackerLookup } from './ticket.phase';

const MAC_KEY = Buffer.alloc(32, 9);
const TOKEN = 'jira-pat-ticket-phase-spec';
const TICKET = { title: 'Refunds round down', description: 'A refund of 0.015 becomes 0.01; it must round half up.' };

describe('TicketPhase, reading a ticket named by reference from a Jira double', () => {
  let double: ForgeDouble;
  /** Each client the lookup handed out, and whether the phase closed it. */
  let handedOut: Array<{ closed: boolean }>;

  beforeEach(async () => {
    handedOut = [];
    double = await startForgeDouble(jiraApi, { projects: {}, tokens: { [TOKEN]: 'airlock-bot' } });
    double.state.addIssue({ project: 'PAY', key: 'PAY-7', ...TICKET });
  });
  afterEach(() => double.stop());

  /** The worker's catalog: one Jira tracker named `jira`, its clients counted so that the test sees each closed. */
  const lookup: TrackerLookup = (name) => {
    if (name !== 'jira') return undefined;
    const config: TrackerConfig = { name: 'jira', type: 'jira', apiUrl: double.origin, token: { env: 'AIRLOCK_JIRA_TOKEN', value: TOKEN }, timeoutMs: 5_000, comment: false };
    const client = new JiraTracker(config, { maxRetries: 0, retryBudgetMs: 0 });
    const entry = { closed: false };
    handedOut.push(entry);
    const counted: TicketTracker = {
      read: (key, signal) => client.read(key, signal),
      comment: (key, markdown, signal) => client.comment(key, markdown, signal),
      close: async () => {
        entry.closed = true;
        await client.close();
      },
    };
    return counted;
  };
  const run = async (ticketRef: string) => {
    const fake = fakeJobContext({ ticketRef });
    const outcome = await new PhaseRunner().run(new TicketPhase(lookup, MAC_KEY), fake.ctx);
    return { ...fake, outcome, transcript: (fake.record as InMemoryJobRecorder).transcriptEntries };
  };

  it("hands the tracker's ticket to every later phase as ctx.ticket, with the reference's MAC set and the title noted in the record", async () => {
    const { ctx, outcome, events, transcript, logs } = await run('jira:PAY-7');
    expect(outcome).toEqual({ status: 'completed' });
    expect(events).toEqual([`${Phase.PHASE_TICKET} ${PhaseState.PHASE_STATE_STARTED}`, `${Phase.PHASE_TICKET} ${PhaseState.PHASE_STATE_COMPLETED}`]);
    expect(ctx.ticket).toEqual(TICKET);
    expect(ctx.report.ticketRefMac).toEqual(keyedMac(MAC_KEY, 'ticket-ref', 'jira:PAY-7'));
    expect(transcript).toEqual([{ kind: 'note', text: `ticket: jira:PAY-7 read from tracker jira: ${TICKET.title}` }]);
    expect(logs.find((line) => line['event'] === 'ticket-read')).toMatchObject({ tracker: 'jira', key: 'PAY-7', titleChars: TICKET.title.length });
    expect(handedOut).toEqual([{ closed: true }]);
  });

  it('leaves a typed ticket as the instruction carried it when no TICKET phase ran', () => {
    const typed = { title: 'Fix add', description: 'add subtracts' };
    const { ctx } = fakeJobContext({ ticket: typed });
    expect(ctx.ticket).toEqual(typed);
    expect(ctx.report.ticketRefMac).toEqual(Buffer.alloc(0));
  });

  it('puts the title on one line of at most 200 characters, and cuts the description at 64 KiB on a whole character, marked', async () => {
    const issue = double.state.issue('PAY', 'PAY-7');
    if (issue === undefined) throw new Error('the double did not store the issue');
    issue.title = `  Refunds\r\nround\tdown \u2028${'é'.repeat(300)}`;
    // 4-byte characters, so that the cut falls inside one unless it is made on a boundary.
    issue.description = '🚀'.repeat(MAX_TICKET_DESCRIPTION_BYTES);
    const { ctx, outcome } = await run('jira:PAY-7');
    expect(outcome.status).toBe('completed');
    const { title, description } = ctx.ticket;
    expect(title.startsWith('Refunds round down é')).toBe(true);
    expect(Array.from(title)).toHaveLength(MAX_TICKET_TITLE_CHARS);
    expect(title.endsWith('…')).toBe(true);
    expect(Buffer.byteLength(description, 'utf8')).toBeLessThanOrEqual(MAX_TICKET_DESCRIPTION_BYTES);
    expect(description.endsWith(DESCRIPTION_CUT_MARKER)).toBe(true);
    expect(description.slice(0, -DESCRIPTION_CUT_MARKER.length)).toMatch(/^(🚀)+$/u);

    issue.description = 'x'.repeat(MAX_TICKET_DESCRIPTION_BYTES);
    expect((await run('jira:PAY-7')).ctx.ticket.description).toBe(issue.description);
  });

  it('takes the key as the title when the tracker gave only blanks', async () => {
    const issue = double.state.issue('PAY', 'PAY-7');
    if (issue !== undefined) issue.title = ' \n ';
    expect((await run('jira:PAY-7')).ctx.ticket.title).toBe('PAY-7');
  });

  it('fails TRACKER_UNKNOWN for a tracker the catalog does not have, asking nothing, with the MAC still set', async () => {
    const { ctx, outcome, events } = await run('youtrack:PAY-7');
    expect(outcome).toEqual({ status: 'failed', failureCode: FailureCode.TRACKER_UNKNOWN });
    expect(events.at(-1)).toBe(`${Phase.PHASE_TICKET} ${PhaseState.PHASE_STATE_FAILED}`);
    expect(ctx.report.ticketRefMac).toEqual(keyedMac(MAC_KEY, 'ticket-ref', 'youtrack:PAY-7'));
    expect(double.requests).toEqual([]);
  });

  it('fails TICKET_NOT_FOUND for a ticket the tracker does not hold, with the MAC set and the typed ticket still empty', async () => {
    const { ctx, outcome } = await run('jira:PAY-404');
    expect(outcome).toEqual({ status: 'failed', failureCode: FailureCode.TICKET_NOT_FOUND });
    expect(ctx.report.ticketRefMac).toEqual(keyedMac(MAC_KEY, 'ticket-ref', 'jira:PAY-404'));
    expect(ctx.ticket).toEqual({ title: '', description: '' });
    expect(handedOut).toEqual([{ closed: true }]);
  });
});
