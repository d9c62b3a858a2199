import { FailureCode } from '@airlock/protocol';
import type { TrackerConfig } from '../config/worker-config.loader';
import { ForgeError, type ForgeFailure } from '../delivery/forge/forge-client';
import { JobError } from '../jobs/job.error';
import type { FailureCodeName } from '../jobs/job-result.builder';

/** A ticket as a tracker answered it, checked but not yet bounded: local only, it never crosses to the control plane. */
export interface TrackedTicket {
  readonly title: string;
  readonly description: string;
}

/**
 * One issue tracker of the customer's (Jira, GitLab issues), as much of it as a job needs.
 * Every method throws a TrackerError naming the failure code it means; the transport has
 * already retried what retrying helps. A key the tracker could never hold is refused before
 * any request.
 */
export interface TicketTracker {
  /** The ticket under `key`: its title and its description ('' when it has none). */
  read(key: string, signal: AbortSignal): Promise<TrackedTicket>;
  /** Posts `markdown` as a comment on the ticket under `key`. */
  comment(key: string, markdown: string, signal: AbortSignal): Promise<void>;
  /** Closes the client's connections. */
  close(): Promise<void>;
}

/** A client for a configured tracker; one per use, so that its retry budget is that use's and its token is read anew. */
export type TrackerClientFactory = (tracker: TrackerConfig) => TicketTracker;

/** How each kind of failed tracker request ends the job. */
const FAILURE_CODES: Readonly<Record<ForgeFailure, FailureCodeName>> = {
  // A tracker answers 404 alike for a ticket that does not exist and one the token may not see.
  'not-found': FailureCode.TICKET_NOT_FOUND,
  // Any other refusal: the request was about a ticket the tracker would not hand over.
  refused: FailureCode.TICKET_NOT_FOUND,
  conflict: FailureCode.TICKET_NOT_FOUND,
  auth: FailureCode.TRACKER_AUTH_FAILED,
  unavailable: FailureCode.TRACKER_UNAVAILABLE,
  'rate-limited': FailureCode.TRACKER_UNAVAILABLE,
};

/** A tracker request that failed, with the failure code it ends the job with. Its message is local only: it may name the tracker's host and the ticket's key. */
export class TrackerError extends JobError {
  override readonly name = 'TrackerError';

  constructor(
    override readonly failureCode: FailureCodeName,
    message: string,
  ) {
    super(message);
  }

  /** The TrackerError for what the transport threw; anything else (an abort among them) is handed back as it was. */
  static from(error: unknown): unknown {
    return error instanceof ForgeError ? new TrackerError(FAILURE_CODES[error.failure], error.message) : error;
  }
}
