export { openDataAccess, DataAccess, type DatabaseLocation } from './data-access';
export { applyMigrations, MigrationStateError, MIGRATIONS_DIR } from './migrations/migration-runner';
export { parsePostgresUrl, formatPostgresUrl, type PostgresConnectionFields } from './postgres/postgres-connection';
export { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded/embedded-postgres';
export { TenantRepository, type TenantRecord } from './repositories/tenant.repository';
export { ApiTokenRepository, type ApiTokenGrant, type ApiTokenView } from './repositories/api-token.repository';
export {
  UserRepository,
  type UserView,
  type UserCredentials,
  type UserChanges,
  type CreateUserOutcome,
  type CreateFirstAdminOutcome,
  type UpdateUserOutcome,
  type OidcIdentity,
  type OidcAccount,
  type LinkOidcIdentityOutcome,
  type CreateOidcUserOutcome,
} from './repositories/user.repository';
export { UserSessionRepository, MAX_LIVE_SESSIONS_PER_USER, type SessionGrant, type SessionMethod } from './repositories/user-session.repository';
export {
  EnrollmentRepository,
  enrollmentTokenState,
  type EnrolledWorker,
  type EnrollmentTokenState,
  type EnrollmentTokenView,
  type EnrollmentTokenRevocation,
} from './repositories/enrollment.repository';
export {
  WorkerRepository,
  type WorkerIdentity,
  type WorkerSummary,
  type WorkerDetail,
  type WorkerPolicyState,
  type WorkerStanding,
  type WorkerConnection,
  type WorkerRevocation,
  type WorkerDrainChange,
  type AppliedPolicyLayer,
  type EndedLease,
} from './repositories/worker.repository';
export { SigningKeyRepository, type SigningKeyRecord } from './repositories/signing-key.repository';
export {
  JobRepository,
  LEASE_EXPIRED_FAILURE_CODE,
  CANCELLED_FAILURE_CODE,
  terminalStatusFor,
  type JobListFilter,
  type JobListPosition,
  type JobPage,
  type JobRetry,
  type DispatchTask,
  MAX_RERUNS_PER_CHAIN,
  type JobTask,
  type JobResultMetadata,
  type ModelUsageMetadata,
  type PolicyReportMetadata,
  type RuleDecisionMetadata,
  type VerificationMetadata,
  type JobAttemptView,
  type JobEventView,
  type JobSummary,
  type JobDetail,
  type QueuedJobRef,
  type DispatchClaim,
  type WorkerAttemptRef,
  type AttemptRef,
  type LeaseRenewal,
  type JobCancellation,
  type ResultDispositionName,
  type ResultJudge,
  type LeaseExpiry,
} from './repositories/job.repository';
export {
  DeliveryOutcomeRepository,
  type DeliveryOutcomeRecording,
  type DeliveryOutcomeReport,
  type DeliveryOutcomeView,
  type MergeRequestStateName,
} from './repositories/delivery-outcome.repository';
export {
  PolicyRepository,
  type PolicySummary,
  type PolicyVersionSummary,
  type PolicyDetail,
  type PolicyVersionDetail,
  type PolicySlot,
  type PolicyLayerRef,
  type RevisionLayer,
  type PublishedLayer,
  type CurrentPolicy,
  type PolicyRevisionView,
  type PolicyDecisionView,
  type CreatePolicyOutcome,
  type AddVersionOutcome,
  type PublishOutcome,
  type WithdrawOutcome,
  type LayerSetCheck,
} from './repositories/policy.repository';
export {
  AdminAuditRepository,
  GENESIS_AUDIT_HASH,
  auditEntryHash,
  canonicalJson,
  type ActorKind,
  type AuditActor,
  type AuditDetails,
  type AuditRecord,
  type AdminAuditEntryView,
  type AuditChainVerification,
  type AuditLogFilter,
  type AuditLogPage,
} from './repositories/admin-audit.repository';
export {
  AnalyticsRepository,
  DEFAULT_ANALYTICS_SETTINGS,
  nextDay,
  type AnalyticsAggregates,
  type AnalyticsReadOptions,
  type AnalyticsScope,
  type AnalyticsSettingsChange,
  type AnalyticsSettingsValues,
  type AnalyticsSettingsView,
  type CohortCounts,
  type CohortDay,
  type CohortSlice,
  type FleetDay,
  type MergeRequestCounts,
  type ModelPrice,
  type OutcomeCounts,
  type PolicyDecisionCounts,
  type SpendTokensDay,
  type TokenUsageDay,
} from './repositories/analytics.repository';
export {
  HISTOGRAM_CEILING_MS,
  HISTOGRAM_FLOOR_MS,
  HISTOGRAM_MAX_ESTIMATE_FACTOR,
  histogramPercentileMs,
  histogramsByMetric,
} from './repositories/analytics-histogram';
export { isDatabaseUnavailableError } from './database-availability';
export type { Role, JobStatus, JobKind, AttemptStatus, JobEventType, WorkerStatus, PolicyScope, PolicyMode, PolicyRevisionChange } from '@prisma/client';
