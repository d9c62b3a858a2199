/** Stable codes of the control plane's domain errors, as API clients see them. */
export type DomainErrorCode = 'UNAUTHENTICATED' | 'JOB_NOT_FOUND' | 'INVALID_JOB_REQUEST';

/** Base of every domain error: one subclass per failure, each with a stable code. */
export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
}
