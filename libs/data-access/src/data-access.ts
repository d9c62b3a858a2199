import path from 'node:path';
import { createDatabaseClient, type DatabaseClient } from './database-client';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded/embedded-postgres';
import { applyMigrations } from './migrations/migration-runner';
import { parsePostgresUrl } from './postgres/postgres-connection';
import { AdminAuditRepository } from './repositories/admin-audit.repository';
import { AnalyticsRepository } from './repositories/analytics.repository';
import { ApiTokenRepository } from './repositories/api-token.repository';
import { DeliveryOutcomeRepository } from './repositories/delivery-outcome.repository';
import { EnrollmentRepository } from './repositories/enrollment.repository';
import { JobRepository } from './repositories/job.repository';
import { PolicyRepository } from './repositories/policy.repository';
import { SigningKeyRepository } from './repositories/signing-key.repository';
import { TenantRepository } from './repositories/tenant.repository';
import { UserRepository } from './repositories/user.repository';
import { UserSessionRepository } from './repositories/user-session.repository';
import { WorkerRepository } from './repositories/worker.repository';

/** Where the control plane's data lives. */
export type DatabaseLocation =
  | { readonly kind: 'url'; readonly url: string }
  /** No DATABASE_URL: an embedded PostgreSQL with its data under `dataDir`. */
  | { readonly kind: 'embedded'; readonly dataDir: string };

/** Every repository, over one connection pool. */
export class DataAccess {
  readonly tenants: TenantRepository;
  readonly apiTokens: ApiTokenRepository;
  readonly enrollment: EnrollmentRepository;
  readonly workers: WorkerRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly jobs: JobRepository;
  readonly deliveryOutcomes: DeliveryOutcomeRepository;
  readonly policies: PolicyRepository;
  readonly audit: AdminAuditRepository;
  readonly analytics: AnalyticsRepository;
  readonly users: UserRepository;
  readonly sessions: UserSessionRepository;

  constructor(
    private readonly client: DatabaseClient,
    private readonly embedded: EmbeddedPostgres | null,
    /** True when this process serves the database itself (the single-process default). */
    readonly isEmbedded = embedded !== null,
  ) {
    this.tenants = new TenantRepository(client);
    this.apiTokens = new ApiTokenRepository(client);
    this.enrollment = new EnrollmentRepository(client);
    this.workers = new WorkerRepository(client);
    this.signingKeys = new SigningKeyRepository(client);
    this.jobs = new JobRepository(client);
    this.deliveryOutcomes = new DeliveryOutcomeRepository(client);
    this.policies = new PolicyRepository(client);
    this.audit = new AdminAuditRepository(client);
    this.analytics = new AnalyticsRepository(client);
    this.users = new UserRepository(client);
    this.sessions = new UserSessionRepository(client);
  }

  /** One `SELECT 1` round trip: whether the database answers now (readiness). Rejects when it does not. */
  async ping(): Promise<void> {
    await this.client.$queryRaw`SELECT 1`;
  }

  async close(): Promise<void> {
    await this.client.$disconnect();
    await this.embedded?.stop();
  }
}

/**
 * Connects to PostgreSQL (starting the embedded one when no URL is given), applies the
 * committed migrations and returns the repositories. Migrations run here and through
 * `npm run db:migrate` from the same folders, recorded the same way.
 */
export async function openDataAccess(location: DatabaseLocation): Promise<DataAccess> {
  const embedded = location.kind === 'embedded' ? await startEmbeddedPostgres(path.join(location.dataDir, 'pgdata')) : null;
  try {
    const url = embedded ? embedded.url : location.kind === 'url' ? location.url : '';
    await applyMigrations(parsePostgresUrl(url));
    const client = createDatabaseClient(url, { maxConnections: embedded ? 1 : 10 });
    await client.$connect();
    return new DataAccess(client, embedded);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
