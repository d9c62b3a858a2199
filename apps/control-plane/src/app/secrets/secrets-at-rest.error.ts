/** Stored secrets cannot be opened with the KEKs this control plane was given. */
export class SecretsAtRestError extends Error {
  override readonly name = 'SecretsAtRestError';
  readonly code = 'SECRETS_AT_REST_UNREADABLE' as const;
}
