import { StringDecoder } from 'node:string_decoder';
import { FailureCode, Phase } from '@airlock/protocol';
import { parseTicketReference } from '../../tickets/ticket-reference';
import type { TicketTracker, TrackedTicket } from '../../tickets/ticket-tracker';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { keyedMac } from '../job-result.builder';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';

/** A client for the tracker of that name in the worker's catalog, one per use; undefined when the catalog has none. */
export type TrackerLookup = (name: string) => TicketTracker | undefined;

/** A ticket title is one line of at most this many characters, as a typed ticket's is on the wire. */
export const MAX_TICKET_TITLE_CHARS = 200;
/** The most of a description a job takes: more than a typed ticket carries (16 KiB), read inside the network; the rest is cut. */
export const MAX_TICKET_DESCRIPTION_BYTES = 64 * 1024;
/** Ends a description that was cut, so that the model and the merge request's readers know there was more. */
export const DESCRIPTION_CUT_MARKER = '\n\n[… the rest of the ticket was cut here: it is longer than 64 KiB]';

/**
 * TICKET, for a task that names its ticket by reference (`<tracker>:<key>`), before anything
 * else: reads the ticket from the customer's tracker, inside the network, and hands it on as
 * `ctx.ticket` for every later phase (the agent's prompt, the commit, the merge request).
 * The keyed MAC of the reference is set first, so that even a failed read can be matched to
 * its ticket by the customer; the reference, the key and the text stay on the worker. Fails
 * TRACKER_UNKNOWN, TICKET_NOT_FOUND, TRACKER_AUTH_FAILED or TRACKER_UNAVAILABLE.
 */
export class TicketPhase implements JobPhase {
  readonly name = Phase.PHASE_TICKET;
  readonly defaultFailure = FailureCode.INTERNAL;

  constructor(
    private readonly trackerFor: TrackerLookup,
    private readonly macKey: Buffer,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const reference = ctx.request.task.ticketRef;
    ctx.report.ticketRefMac = keyedMac(this.macKey, 'ticket-ref', reference);
    const { tracker: name, key } = parseTicketReference(reference);
    const tracker = this.trackerFor(name);
    if (tracker === undefined) throw new JobPhaseFailedError(FailureCode.TRACKER_UNKNOWN, `the worker's config has no tracker named ${JSON.stringify(name)}`);
    let read: TrackedTicket;
    try {
      read = await tracker.read(key, ctx.signal);
    } finally {
      await tracker.close().catch((error: unknown) => ctx.logger.warn('tracker-client-close-failed', { error: error as Error }));
    }
    const ticket = boundedTicket(read, key);
    ctx.provide('ticket', ticket);
    ctx.logger.info('ticket-read', { tracker: name, key, titleChars: Array.from(ticket.title).length, descriptionBytes: Buffer.byteLength(ticket.description, 'utf8') });
    ctx.record.transcript({ kind: 'note', text: `ticket: ${reference} read from tracker ${name}: ${ticket.title}` });
  }
}

/**
 * The ticket as a job takes it: the title on one line (line breaks and control characters
 * become spaces) of at most MAX_TICKET_TITLE_CHARS, or the key when the tracker gave none;
 * the description cut at MAX_TICKET_DESCRIPTION_BYTES, marker included, on a whole character.
 */
export function boundedTicket(ticket: TrackedTicket, key: string): TrackedTicket {
  const line = ticket.title.replace(/[\s\p{Cc}]+/gu, ' ').trim();
  const characters = Array.from(line);
  const title = characters.length > MAX_TICKET_TITLE_CHARS ? `${characters.slice(0, MAX_TICKET_TITLE_CHARS - 1).join('')}…` : line;
  return { title: title === '' ? key : title, description: boundedDescription(ticket.description) };
}

function boundedDescription(description: string): string {
  const bytes = Buffer.from(description, 'utf8');
  if (bytes.length <= MAX_TICKET_DESCRIPTION_BYTES) return description;
  // The decoder holds back the bytes of a character cut in half rather than make it a U+FFFD.
  const kept = new StringDecoder('utf8').write(bytes.subarray(0, MAX_TICKET_DESCRIPTION_BYTES - Buffer.byteLength(DESCRIPTION_CUT_MARKER, 'utf8')));
  return `${kept}${DESCRIPTION_CUT_MARKER}`;
}
