import type { TrackerConfig } from '../config/worker-config.loader';
import type { MergeRequestListener } from '../jobs/phases/deliver.phase';
import { parseTicketReference } from './ticket-reference';
import { type TrackerClientFactory, TrackerError } from './ticket-tracker';

/**
 * Posts the merge request's link on the ticket, for a job whose ticket was named by reference
 * in a tracker whose config says `comment: true`: "Airlock opened (or updated) a merge request
 * for this ticket: <link>". Inside the network, like the ticket itself. Best effort: a comment
 * that fails is logged, and the job is delivered all the same.
 */
export function ticketCommentListener(trackers: readonly TrackerConfig[], clientFor: TrackerClientFactory): MergeRequestListener {
  return async (ctx, { published }) => {
    const reference = ctx.request.task.ticketRef;
    if (reference === '') return;
    const { tracker: name, key } = parseTicketReference(reference);
    const tracker = trackers.find((entry) => entry.name === name);
    if (tracker?.comment !== true) return;
    const text = `Airlock ${published.outcome} a merge request for this ticket: ${published.mergeRequest.webUrl}`;
    const client = clientFor(tracker);
    try {
      await client.comment(key, text, ctx.signal);
      ctx.logger.info('ticket-commented', { tracker: name, key, outcome: published.outcome });
      ctx.record.transcript({ kind: 'note', text: `ticket: commented on ${reference}: ${text}` });
    } catch (error) {
      ctx.logger.warn('ticket-comment-failed', { tracker: name, key, failureCode: error instanceof TrackerError ? error.failureCode : null, error: error as Error });
    } finally {
      await client.close().catch((error: unknown) => ctx.logger.warn('tracker-client-close-failed', { error: error as Error }));
    }
  };
}
