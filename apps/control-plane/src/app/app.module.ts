import { type DynamicModule, Module } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { DataAccess } from '@airlock/data-access';
import type { SecretSealer } from '@airlock/sealed-secrets';
import { AnalyticsController } from './analytics/analytics.controller';
import { AnalyticsService } from './analytics/analytics.service';
import { AuditLogController } from './audit/audit-log.controller';
import { AuthController } from './auth/auth.controller';
import { AuthGuard } from './auth/auth.guard';
import { AuthService } from './auth/auth.service';
import { LoginRateLimiter } from './auth/login-rate-limiter';
import { OidcAttemptCookies } from './auth/oidc/oidc-attempt-cookie';
import { OidcClient } from './auth/oidc/oidc-client';
import { OidcLoginService } from './auth/oidc/oidc-login.service';
import { OidcController } from './auth/oidc/oidc.controller';
import { PasswordHasher } from './auth/password-hasher';
import { SessionCookies } from './auth/session-cookie';
import { SessionService } from './auth/session.service';
import { FirstStartService } from './bootstrap/first-start.service';
import { CLOCK, type Clock } from './common/clock';
import { DomainErrorFilter } from './common/domain-error.filter';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { BatchDispatch } from './dispatch/batch-dispatch';
import { InProcessJobDispatcher } from './dispatch/in-process-job-dispatcher';
import { NatsJobDispatcher } from './dispatch/nats-job-dispatcher';
import { JOB_DISPATCHER } from './dispatch/job-dispatcher';
import { LeaseReaperService, SCHEDULER, type Scheduler } from './dispatch/lease-reaper.service';
import { WorkerSessionRegistry } from './dispatch/worker-session.registry';
import { EnrollmentTokensController } from './enrollment/enrollment-tokens.controller';
import { EnrollmentService } from './enrollment/enrollment.service';
import { EVENT_BUS } from './events/event-bus';
import { EventStreamService } from './events/event-stream.service';
import { DispatchLimitsController } from './dispatch/dispatch-limits.controller';
import { EventsController } from './events/events.controller';
import { InProcessEventBus } from './events/in-process-event-bus';
import { NatsEventBus } from './events/nats-event-bus';
import { FLEET_COMMANDS } from './fleet/fleet-commands';
import { InProcessFleetCommands } from './fleet/in-process-fleet-commands';
import { NatsFleetCommands } from './fleet/nats-fleet-commands';
import { WorkerGatewayService } from './gateway/worker-gateway.service';
import { HealthController } from './health/health.controller';
import { ControlPlaneMetrics, MAX_TENANTS_IN_QUEUE_DEPTH } from './metrics/control-plane.metrics';
import { NATS_CONNECTION, REPLICA_ID } from './nats/nats-connection';
import { JobsController } from './jobs/jobs.controller';
import { JobsService } from './jobs/jobs.service';
import { ApiTokensController } from './people/api-tokens.controller';
import { ApiTokensService } from './people/api-tokens.service';
import { UsersController } from './people/users.controller';
import { UsersService } from './people/users.service';
import { PoliciesController } from './policies/policies.controller';
import { PoliciesService } from './policies/policies.service';
import { PolicyController } from './policies/policy.controller';
import { PolicyDistributor } from './policies/policy-distributor';
import { SigningKeysController } from './signing/signing-keys.controller';
import { SigningKeyService } from './signing/signing-key.service';
import { SECRET_SEALER } from './secrets/secret-sealer.provider';
import { WorkersController } from './workers/workers.controller';
import { WorkersService } from './workers/workers.service';

/** What the app module is assembled from; opened before Nest starts. */
export interface AppModuleOptions {
  readonly config: AppConfig;
  readonly dataAccess: DataAccess;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** This process among the replicas (random per start). */
  readonly replicaId: string;
  /**
   * The NATS connection replicas share (AIRLOCK_NATS_URL), or null for the single-process
   * default: it decides which adapter serves dispatch, fleet commands and live events.
   */
  readonly nats: NatsConnection | null;
  /** Seals the secrets the control plane stores (docs/security.md#secrets-at-rest); null or absent: stored unsealed. */
  readonly sealer?: SecretSealer | null;
}

@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      controllers: [
        HealthController,
        AuthController,
        OidcController,
        UsersController,
        ApiTokensController,
        EnrollmentTokensController,
        WorkersController,
        SigningKeysController,
        JobsController,
        DispatchLimitsController,
        EventsController,
        PoliciesController,
        PolicyController,
        AuditLogController,
        AnalyticsController,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: options.config },
        { provide: DataAccess, useValue: options.dataAccess },
        { provide: CLOCK, useValue: options.clock },
        { provide: SCHEDULER, useValue: options.scheduler },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: DomainErrorFilter },
        { provide: REPLICA_ID, useValue: options.replicaId },
        { provide: SECRET_SEALER, useValue: options.sealer ?? null },
        ...(options.nats
          ? [
              { provide: NATS_CONNECTION, useValue: options.nats },
              { provide: JOB_DISPATCHER, useClass: NatsJobDispatcher },
              { provide: EVENT_BUS, useClass: NatsEventBus },
              { provide: FLEET_COMMANDS, useClass: NatsFleetCommands },
            ]
          : [
              { provide: JOB_DISPATCHER, useClass: InProcessJobDispatcher },
              { provide: EVENT_BUS, useClass: InProcessEventBus },
              { provide: FLEET_COMMANDS, useClass: InProcessFleetCommands },
            ]),
        {
          provide: ControlPlaneMetrics,
          // One registry per app: tests (and a process running several control planes) never share counters.
          useFactory: (data: DataAccess, sessions: WorkerSessionRegistry) =>
            new ControlPlaneMetrics({
              defaultMetrics: true,
              queuedJobsByTenant: () => data.jobs.countQueuedByTenant(MAX_TENANTS_IN_QUEUE_DEPTH),
              workerStreams: () => sessions.counts(),
            }),
          inject: [DataAccess, WorkerSessionRegistry],
        },
        BatchDispatch,
        FirstStartService,
        PasswordHasher,
        SessionCookies,
        SessionService,
        LoginRateLimiter,
        AuthService,
        OidcClient,
        OidcAttemptCookies,
        OidcLoginService,
        UsersService,
        ApiTokensService,
        SigningKeyService,
        EnrollmentService,
        JobsService,
        AnalyticsService,
        EventStreamService,
        PoliciesService,
        PolicyDistributor,
        WorkerSessionRegistry,
        LeaseReaperService,
        WorkerGatewayService,
        WorkersService,
      ],
    };
  }
}
