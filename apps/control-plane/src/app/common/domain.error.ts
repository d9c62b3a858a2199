/** Stable codes of the control plane's errors, as API clients see them. */
export type DomainErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'INVALID_CREDENTIALS'
  | 'ACCOUNT_LOCKED'
  | 'ACCOUNT_DISABLED'
  | 'RATE_LIMITED'
  | 'CSRF_REJECTED'
  | 'ALREADY_BOOTSTRAPPED'
  | 'INVALID_BOOTSTRAP_TOKEN'
  | 'INVALID_CURRENT_PASSWORD'
  | 'OIDC_NOT_CONFIGURED'
  | 'OIDC_UNAVAILABLE'
  | 'OIDC_STATE_MISMATCH'
  | 'OIDC_FAILED'
  | 'OIDC_NO_VERIFIED_EMAIL'
  | 'OIDC_UNKNOWN_USER'
  | 'OIDC_ACCOUNT_LINKED_ELSEWHERE'
  | 'USER_NOT_FOUND'
  | 'EMAIL_TAKEN'
  | 'LAST_ADMIN'
  | 'API_TOKEN_NOT_FOUND'
  | 'SCOPE_NOT_HELD'
  | 'JOB_NOT_FOUND'
  | 'JOB_ALREADY_FINISHED'
  | 'JOB_NOT_RETRYABLE'
  | 'TOO_MANY_EVENT_STREAMS'
  | 'EVENT_LISTENER_LIMIT_REACHED'
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
  | 'POLICY_BUNDLE_TOO_LARGE'
  | 'WORKER_NOT_FOUND'
  | 'WORKER_REVOKED'
  | 'ENROLLMENT_TOKEN_NOT_FOUND'
  | 'ENROLLMENT_TOKEN_ALREADY_USED';

/** Base of every domain error: one subclass per failure, each with a stable code. */
export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  /** Set on transient failures: how long a client should wait before trying again. */
  readonly retryAfterSeconds?: number;
}
