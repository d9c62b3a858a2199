import type { Scope } from '../app/auth/access';

/**
 * What a route needs: a scope (@RequireScope), a logged-in person (@Authenticated(), the
 * self-service routes), or nothing (@Public()).
 */
export type RouteAccess = Scope | 'session' | 'public';

/** Tenant A's resources, made by the access matrix before it runs, that samples name. */
export interface SampleIds {
  /** A QUEUED job: read and cancelled. */
  readonly jobId: string;
  /** A CANCELLED job: retried. */
  readonly finishedJobId: string;
  /** A policy with version 1 published to the tenant scope (enforce) as revision 1. */
  readonly policyId: string;
  /** A worker to revoke, and another to drain and undrain. */
  readonly revokedWorkerId: string;
  readonly drainedWorkerId: string;
  /** An unused enrollment token to revoke. */
  readonly enrollmentTokenId: string;
  /** A person (VIEWER) to edit. */
  readonly userId: string;
  /** An API token to revoke (not one the matrix authenticates with). */
  readonly apiTokenId: string;
  /** An account the public login sample logs in to. */
  readonly loginEmail: string;
  readonly loginPassword: string;
}

/** How the access matrix calls one route. */
export interface RouteSample {
  readonly access: RouteAccess;
  /** The path to request (with its query), naming tenant A's resources. */
  readonly path: (ids: SampleIds) => string;
  readonly body?: (ids: SampleIds) => unknown;
  /**
   * What a person of tenant B holding the scope gets for this sample: `not-found` (404) for a
   * path that names tenant A's resources, `own-data` for a route that answers about the
   * caller's own tenant (lists, creates), `platform-only` (403 PLATFORM_TENANT_ONLY) for a
   * route only the tenant that operates the control plane may use (tenant A in the matrix).
   * Either way never a byte of tenant A's data.
   */
  readonly otherTenant: 'not-found' | 'own-data' | 'platform-only';
  /**
   * Why the sample cannot succeed even for the first holder of the scope; absent, the first
   * holder (tenant A's ADMIN) must get a 2xx, and nobody a 400 INVALID_REQUEST or 404
   * ROUTE_NOT_FOUND, which shows the sample really reaches the route's own logic.
   */
  readonly cannotSucceed?: string;
  /** Succeeding ends the caller's session (logout): the matrix logs in afresh for it. */
  readonly endsSession?: true;
}

const DOCUMENT = { schemaVersion: 1, rules: { 'max-files-changed': { max: 20 } } };

/**
 * One sample per route the control plane serves, keyed `METHOD /path` as Express holds it.
 * The access matrix (app/access-matrix.integration-spec.ts) enumerates the routes of the
 * running app and fails for any route without a sample here, so a new route cannot ship
 * without its access being tested.
 */
export const ROUTE_SAMPLES: Readonly<Record<string, RouteSample>> = {
  // Public
  'GET /api/v1/health': { access: 'public', path: () => '/api/v1/health', otherTenant: 'own-data' },
  'GET /api/v1/health/ready': { access: 'public', path: () => '/api/v1/health/ready', otherTenant: 'own-data' },
  'GET /api/v1/auth/providers': { access: 'public', path: () => '/api/v1/auth/providers', otherTenant: 'own-data' },
  'POST /api/v1/auth/login': {
    access: 'public',
    path: () => '/api/v1/auth/login',
    body: (ids) => ({ email: ids.loginEmail, password: ids.loginPassword }),
    otherTenant: 'own-data',
  },
  'POST /api/v1/auth/bootstrap': {
    access: 'public',
    path: () => '/api/v1/auth/bootstrap',
    body: () => ({ bootstrapToken: `alt_${'B'.repeat(43)}`, email: 'nobody@matrix.example', displayName: 'Nobody', password: 'no bootstrap for you' }),
    otherTenant: 'own-data',
    cannotSucceed: 'every tenant of the matrix has its first admin already',
  },
  'GET /api/v1/auth/oidc/login': {
    access: 'public',
    path: () => '/api/v1/auth/oidc/login?next=/jobs',
    otherTenant: 'own-data',
    cannotSucceed: 'the matrix control plane has no single sign-on (OIDC_NOT_CONFIGURED); oidc.integration-spec.ts signs in through a real identity provider',
  },
  'GET /api/v1/auth/oidc/callback': {
    access: 'public',
    path: () => '/api/v1/auth/oidc/callback?code=matrix-code&state=matrix-state',
    otherTenant: 'own-data',
    cannotSucceed: 'the matrix control plane has no single sign-on (OIDC_NOT_CONFIGURED)',
  },
  'GET /api/docs': { access: 'public', path: () => '/api/docs', otherTenant: 'own-data' },
  'GET /api/docs-json': { access: 'public', path: () => '/api/docs-json', otherTenant: 'own-data' },
  'GET /api/docs-yaml': { access: 'public', path: () => '/api/docs-yaml', otherTenant: 'own-data' },
  // The OpenAPI page's own files, which @nestjs/swagger serves as routes.
  'GET /api/docs/': { access: 'public', path: () => '/api/docs/', otherTenant: 'own-data' },
  'GET /api/docs/index.html': { access: 'public', path: () => '/api/docs/index.html', otherTenant: 'own-data' },
  'GET /api/docs/swagger-ui-init.js': { access: 'public', path: () => '/api/docs/swagger-ui-init.js', otherTenant: 'own-data' },
  'GET /api/docs/docs/swagger-ui-init.js': { access: 'public', path: () => '/api/docs/docs/swagger-ui-init.js', otherTenant: 'own-data' },
  'GET /api/docs/LICENSE': {
    access: 'public',
    path: () => '/api/docs/LICENSE',
    otherTenant: 'own-data',
    cannotSucceed: '@nestjs/swagger registers it only to answer 404',
  },

  // A person's own session and account
  'GET /api/v1/auth/session': { access: 'session', path: () => '/api/v1/auth/session', otherTenant: 'own-data' },
  'POST /api/v1/auth/logout': { access: 'session', path: () => '/api/v1/auth/logout', otherTenant: 'own-data', endsSession: true },
  'POST /api/v1/auth/password': {
    access: 'session',
    path: () => '/api/v1/auth/password',
    body: () => ({ currentPassword: 'not the current password', newPassword: 'a new password that is long' }),
    otherTenant: 'own-data',
    cannotSucceed: 'a change would end the matrix\'s other sessions of the person, so the sample\'s currentPassword is wrong (400)',
  },

  // People and API tokens
  'GET /api/v1/users': { access: 'people:read', path: () => '/api/v1/users', otherTenant: 'own-data' },
  'POST /api/v1/users': {
    access: 'people:write',
    path: () => '/api/v1/users',
    body: () => ({ email: 'added.by.matrix@example.com', displayName: 'Added', role: 'VIEWER', password: 'added by the matrix' }),
    otherTenant: 'own-data',
  },
  'PATCH /api/v1/users/:id': { access: 'people:write', path: (ids) => `/api/v1/users/${ids.userId}`, body: () => ({ displayName: 'Renamed by the matrix' }), otherTenant: 'not-found' },
  'GET /api/v1/api-tokens': { access: 'people:read', path: () => '/api/v1/api-tokens', otherTenant: 'own-data' },
  'POST /api/v1/api-tokens': {
    access: 'people:write',
    path: () => '/api/v1/api-tokens',
    body: () => ({ name: 'made by the matrix', scopes: ['jobs:read'], expiresInDays: 1 }),
    otherTenant: 'own-data',
  },
  'POST /api/v1/api-tokens/:id/revoke': { access: 'people:write', path: (ids) => `/api/v1/api-tokens/${ids.apiTokenId}/revoke`, otherTenant: 'not-found' },

  // Jobs
  'GET /api/v1/jobs': { access: 'jobs:read', path: () => '/api/v1/jobs', otherTenant: 'own-data' },
  'POST /api/v1/jobs': { access: 'jobs:write', path: () => '/api/v1/jobs', body: () => ({ kind: 'noop' }), otherTenant: 'own-data' },
  'GET /api/v1/jobs/:id': { access: 'jobs:read', path: (ids) => `/api/v1/jobs/${ids.jobId}`, otherTenant: 'not-found' },
  'POST /api/v1/jobs/:id/cancel': { access: 'jobs:write', path: (ids) => `/api/v1/jobs/${ids.jobId}/cancel`, otherTenant: 'not-found' },
  'POST /api/v1/jobs/:id/retry': { access: 'jobs:write', path: (ids) => `/api/v1/jobs/${ids.finishedJobId}/retry`, otherTenant: 'not-found' },
  'GET /api/v1/events': { access: 'jobs:read', path: () => '/api/v1/events', otherTenant: 'own-data' },

  // Analytics
  'GET /api/v1/analytics': { access: 'analytics:read', path: () => '/api/v1/analytics', otherTenant: 'own-data' },
  'GET /api/v1/analytics/export.csv': { access: 'analytics:read', path: () => '/api/v1/analytics/export.csv', otherTenant: 'own-data' },
  'GET /api/v1/analytics/settings': { access: 'analytics:read', path: () => '/api/v1/analytics/settings', otherTenant: 'own-data' },
  'PUT /api/v1/analytics/settings': {
    access: 'analytics:write',
    path: () => '/api/v1/analytics/settings',
    body: () => ({
      currency: 'EUR',
      pricePer1kTokens: 0.0005,
      modelPrices: [],
      monthlyBudget: null,
      hoursSavedPerDeliveredChange: { fix: 2, noop: 0 },
      minimumGroupSize: 5,
    }),
    otherTenant: 'own-data',
  },

  // Fleet
  'GET /api/v1/workers': { access: 'fleet:read', path: () => '/api/v1/workers', otherTenant: 'own-data' },
  'GET /api/v1/workers/:id': { access: 'fleet:read', path: (ids) => `/api/v1/workers/${ids.drainedWorkerId}`, otherTenant: 'not-found' },
  'GET /api/v1/workers/:id/ledger-heads': { access: 'fleet:read', path: (ids) => `/api/v1/workers/${ids.drainedWorkerId}/ledger-heads`, otherTenant: 'not-found' },
  'GET /api/v1/dispatch-limits': { access: 'fleet:read', path: () => '/api/v1/dispatch-limits', otherTenant: 'own-data' },
  'PUT /api/v1/dispatch-limits': {
    access: 'fleet:write',
    path: () => '/api/v1/dispatch-limits',
    body: () => ({ maxRunningJobs: null, pools: [] }),
    otherTenant: 'own-data',
  },
  'POST /api/v1/workers/:id/revoke': { access: 'fleet:write', path: (ids) => `/api/v1/workers/${ids.revokedWorkerId}/revoke`, otherTenant: 'not-found' },
  'POST /api/v1/workers/:id/drain': { access: 'fleet:write', path: (ids) => `/api/v1/workers/${ids.drainedWorkerId}/drain`, otherTenant: 'not-found' },
  'POST /api/v1/workers/:id/undrain': { access: 'fleet:write', path: (ids) => `/api/v1/workers/${ids.drainedWorkerId}/undrain`, otherTenant: 'not-found' },
  'GET /api/v1/enrollment-tokens': { access: 'fleet:read', path: () => '/api/v1/enrollment-tokens', otherTenant: 'own-data' },
  'POST /api/v1/enrollment-tokens': { access: 'fleet:write', path: () => '/api/v1/enrollment-tokens', body: () => ({}), otherTenant: 'own-data' },
  'POST /api/v1/enrollment-tokens/:id/revoke': {
    access: 'fleet:write',
    path: (ids) => `/api/v1/enrollment-tokens/${ids.enrollmentTokenId}/revoke`,
    otherTenant: 'not-found',
  },
  'GET /api/v1/signing-keys': { access: 'fleet:read', path: () => '/api/v1/signing-keys', otherTenant: 'own-data' },
  // Signing keys are the control plane's, not a tenant's: only the platform tenant (A) changes them; its first holder stages one, every later caller is answered 409 SIGNING_KEY_ALREADY_STAGED.
  'POST /api/v1/signing-keys': { access: 'fleet:write', path: () => '/api/v1/signing-keys', otherTenant: 'platform-only' },
  'POST /api/v1/signing-keys/:keyId/activate': {
    access: 'fleet:write',
    path: () => '/api/v1/signing-keys/sk_0000000000000000/activate',
    otherTenant: 'platform-only',
    cannotSucceed: 'the key a sample could name is staged only while the matrix runs (404 SIGNING_KEY_NOT_FOUND); signing/signing-key-rotation.integration-spec.ts activates one',
  },
  'POST /api/v1/signing-keys/:keyId/discard': {
    access: 'fleet:write',
    path: () => '/api/v1/signing-keys/sk_0000000000000000/discard',
    otherTenant: 'platform-only',
    cannotSucceed: 'the key a sample could name is staged only while the matrix runs (404 SIGNING_KEY_NOT_FOUND); signing/signing-key-rotation.integration-spec.ts discards one',
  },

  // Policy
  'GET /api/v1/policies': { access: 'policy:read', path: () => '/api/v1/policies', otherTenant: 'own-data' },
  'POST /api/v1/policies': { access: 'policy:write', path: () => '/api/v1/policies', body: () => ({ name: 'made by the matrix', document: DOCUMENT }), otherTenant: 'own-data' },
  'GET /api/v1/policies/:id': { access: 'policy:read', path: (ids) => `/api/v1/policies/${ids.policyId}`, otherTenant: 'not-found' },
  'POST /api/v1/policies/:id/versions': {
    access: 'policy:write',
    path: (ids) => `/api/v1/policies/${ids.policyId}/versions`,
    body: () => ({ document: DOCUMENT, comment: 'from the matrix' }),
    otherTenant: 'not-found',
  },
  'GET /api/v1/policies/:id/versions/:number': { access: 'policy:read', path: (ids) => `/api/v1/policies/${ids.policyId}/versions/1`, otherTenant: 'not-found' },
  'GET /api/v1/policies/:id/diff': { access: 'policy:read', path: (ids) => `/api/v1/policies/${ids.policyId}/diff?from=1&to=1`, otherTenant: 'not-found' },
  'POST /api/v1/policies/:id/versions/:number/publish': {
    access: 'policy:write',
    path: (ids) => `/api/v1/policies/${ids.policyId}/versions/1/publish`,
    body: () => ({ scope: 'pool', key: 'matrix', mode: 'shadow' }),
    otherTenant: 'not-found',
  },
  'GET /api/v1/policy': { access: 'policy:read', path: () => '/api/v1/policy', otherTenant: 'own-data' },
  'POST /api/v1/policy/withdraw': { access: 'policy:write', path: () => '/api/v1/policy/withdraw', body: () => ({ scope: 'tenant', mode: 'enforce' }), otherTenant: 'own-data' },
  // Tenant B has published nothing, so it has no revision 1.
  'GET /api/v1/policy/revisions/:revision': { access: 'policy:read', path: () => '/api/v1/policy/revisions/1', otherTenant: 'not-found' },
  'GET /api/v1/policy/rollout': { access: 'policy:read', path: () => '/api/v1/policy/rollout', otherTenant: 'own-data' },
  'GET /api/v1/policy/decisions': { access: 'policy:read', path: () => '/api/v1/policy/decisions', otherTenant: 'own-data' },

  // Audit
  'GET /api/v1/audit-log': { access: 'audit:read', path: () => '/api/v1/audit-log', otherTenant: 'own-data' },
  'GET /api/v1/audit-log/export': { access: 'audit:read', path: () => '/api/v1/audit-log/export', otherTenant: 'own-data' },
  'GET /api/v1/audit-log/verify': { access: 'audit:read', path: () => '/api/v1/audit-log/verify', otherTenant: 'own-data' },
};
