import type { Schemas } from '../api/client';

/** The kinds of job the new-job form creates (a noop is a probe, made through the API only). */
export const NEW_JOB_KINDS = ['fix', 'review', 'index'] as const;
export type NewJobKind = (typeof NEW_JOB_KINDS)[number];

/** Where a fix job's ticket comes from: typed into the form, or named by reference. */
export type TicketSource = 'typed' | 'reference';

/** How a review names its merge request: by its number on the forge, or by a branch whose open request it is. */
export type ReviewTargetSource = 'mergeRequest' | 'branch';

/** What the new-job form holds, by the names the API's 400 messages use; each kind reads its own. */
export interface NewJobFields {
  readonly repoAlias: string;
  readonly baseRef: string;
  readonly 'ticket.title': string;
  readonly 'ticket.description': string;
  readonly ticketRef: string;
  /** As typed into a number input: the API's 400 names it if it is not a whole number in range. */
  readonly mergeRequest: string;
  readonly branch: string;
  readonly ref: string;
  /** Empty: any worker of the tenant. */
  readonly pool: string;
  /** As typed into a number input; empty: the API's default. */
  readonly priority: string;
}

/** The form's choices besides its fields: where a fix's ticket and a review's merge request come from. */
export interface NewJobChoices {
  readonly ticketSource: TicketSource;
  readonly reviewTarget: ReviewTargetSource;
}

/**
 * The body of POST /jobs for the form: the fields of its kind only (the API refuses a field of
 * another kind), a fix's ticket or its reference and a review's number or branch, never both;
 * the pool and priority of any kind when given.
 */
export function newJobRequest(kind: NewJobKind, fields: NewJobFields, choices: NewJobChoices): Schemas['CreateJobDto'] {
  const pool = fields.pool.trim();
  const priority = fields.priority.trim();
  // A priority that is not one the API takes goes as it reads, for the API's 400 to name.
  return { ...taskRequest(kind, fields, choices), ...(pool ? { pool } : {}), ...(priority ? { priority: Number(priority) } : {}) };
}

function taskRequest(kind: NewJobKind, fields: NewJobFields, choices: NewJobChoices): Schemas['CreateJobDto'] {
  const repoAlias = fields.repoAlias.trim();
  switch (kind) {
    case 'review':
      // A number that is not one the API takes (empty reads 0, a fraction stays one) goes as it is, for the API's 400 to name.
      return choices.reviewTarget === 'mergeRequest' ? { kind, repoAlias, mergeRequest: Number(fields.mergeRequest.trim()) } : { kind, repoAlias, branch: fields.branch.trim() };
    case 'index':
      return { kind, repoAlias, ref: fields.ref.trim() };
    case 'fix': {
      const target = { kind, repoAlias, baseRef: fields.baseRef.trim() };
      if (choices.ticketSource === 'reference') return { ...target, ticketRef: fields.ticketRef.trim() };
      return { ...target, ticket: { title: fields['ticket.title'], description: fields['ticket.description'] } };
    }
  }
}
