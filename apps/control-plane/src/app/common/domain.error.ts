/** Stable codes of the control plane's errors, as API clients see them. */
export type DomainErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'JOB_NOT_FOUND'
  | 'JOB_ALREADY_FINISHED'
  | 'INVALID_JOB_REQUEST'
  | 'INVALID_REQUEST'
  | 'MALFORMED_JSON'
  | 'REQUEST_BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'ROUTE_NOT_FOUND'
  | 'DATABASE_UNAVAILABLE'
  | 'POLICY_NOT_FOUND'
  | 'POLICY_VERSION_NOT_FOUND'
  | 'POLICY_NAME_TAKEN'
  | 'POLICY_LAYER_NOT_FOUND'
  | 'POLICY_REVISION_NOT_FOUND'
  | 'POLICY_BUNDLE_TOO_LARGE';

/** Base of every domain error: one subclass per failure, each with a stable code. */
export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  /** Set on transient failures: how long a client should wait before trying again. */
  readonly retryAfterSeconds?: number;
}
