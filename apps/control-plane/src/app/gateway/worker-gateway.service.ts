import * as grpc from '@grpc/grpc-js';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, type ResultDispositionName, type ResultToRecord, type WorkerAttemptRef } from '@airlock/data-access';
import { ID_PATTERNS, WIRE_LIMITS, type WorkerGatewayHandlers } from '@airlock/protocol';
import { CLOCK, type Clock } from '../common/clock';
import { GroupCommit } from '../common/group-commit';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JOB_DISPATCHER, type JobDispatcher } from '../dispatch/job-dispatcher';
import { WorkerSessionRegistry } from '../dispatch/worker-session.registry';
import { EnrollmentService } from '../enrollment/enrollment.service';
import { EVENT_BUS, type EventBus } from '../events/event-bus';
import { PolicyDistributor } from '../policies/policy-distributor';
import { SigningKeyService } from '../signing/signing-key.service';
import { CentralJobLimits } from './central-job-limits';
import { WorkerStreamSession } from './worker-stream.session';

/** The most acks, or results, one transaction records; a busier gateway commits the rest in the next. */
const MAX_FRAMES_PER_COMMIT = 256;

/** How long a worker has to answer the challenge with its Hello. */
export const HELLO_TIMEOUT_MS = 10_000;

type ServiceError = Partial<grpc.StatusObject> & Error;

function statusError(code: grpc.status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details });
}

/** The WorkerGateway RPCs: Enroll and the Connect stream. */
@Injectable()
export class WorkerGatewayService {
  private readonly logger = new Logger('WorkerGateway');
  /** One for every stream, so that a revision read for one worker's result serves the others'. */
  private readonly jobLimits: CentralJobLimits;
  /** The acks of every stream, committed in groups. */
  private readonly acks: GroupCommit<WorkerAttemptRef, boolean>;
  /** The results of every stream, committed in groups. */
  private readonly results: GroupCommit<ResultToRecord, ResultDispositionName>;

  constructor(
    private readonly data: DataAccess,
    private readonly enrollment: EnrollmentService,
    private readonly signingKeys: SigningKeyService,
    private readonly registry: WorkerSessionRegistry,
    private readonly policy: PolicyDistributor,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(EVENT_BUS) private readonly events: EventBus,
  ) {
    this.jobLimits = new CentralJobLimits(data.policies, this.logger);
    this.acks = new GroupCommit((refs) => data.jobs.recordAcks(refs, clock.now()), MAX_FRAMES_PER_COMMIT);
    this.results = new GroupCommit((items) => data.jobs.recordResults(items, clock.now()), MAX_FRAMES_PER_COMMIT);
  }

  /** The grpc-js implementation object for `server.addService`. */
  implementation(): WorkerGatewayHandlers {
    return {
      Enroll: (call, callback) => {
        this.enroll(call.request)
          .then((response) => callback(null, response))
          .catch((error: unknown) => {
            if (isStatusError(error)) return callback(error);
            this.logger.error({ event: 'enroll_failed', error: (error as Error).name });
            callback(statusError(grpc.status.INTERNAL, 'enrollment failed'));
          });
      },
      Connect: (call) => {
        new WorkerStreamSession(call, {
          data: this.data,
          acks: this.acks,
          results: this.results,
          registry: this.registry,
          dispatcher: this.dispatcher,
          policy: this.policy,
          jobLimits: this.jobLimits,
          events: this.events,
          config: this.config,
          clock: this.clock,
          logger: this.logger,
          helloTimeoutMs: HELLO_TIMEOUT_MS,
        });
      },
    };
  }

  private async enroll(request: { enrollmentToken: string; workerPublicKey: Buffer; workerVersion: string }) {
    if (!ID_PATTERNS.enrollmentToken.test(request.enrollmentToken)) {
      throw statusError(grpc.status.INVALID_ARGUMENT, 'enrollmentToken: expected aet_ followed by 43 base64url characters');
    }
    if (request.workerPublicKey.length !== WIRE_LIMITS.ed25519PublicKeyBytes) {
      throw statusError(grpc.status.INVALID_ARGUMENT, `workerPublicKey: expected ${WIRE_LIMITS.ed25519PublicKeyBytes} bytes (raw Ed25519)`);
    }
    if (!ID_PATTERNS.semver.test(request.workerVersion)) {
      throw statusError(grpc.status.INVALID_ARGUMENT, 'workerVersion: expected a semantic version');
    }
    const enrolled = await this.enrollment.enroll(request.enrollmentToken, request.workerPublicKey, request.workerVersion);
    // Unknown, used and expired tokens are answered alike: no oracle for token guessing.
    if (!enrolled) throw statusError(grpc.status.UNAUTHENTICATED, 'enrollment token not accepted');
    this.logger.log({ event: 'worker_enrolled', workerId: enrolled.workerId, tenantId: enrolled.tenantId, pool: enrolled.pool });
    // The worker counts the token's pool among its own (proto3: empty string for none), so the
    // pool layers the control plane sends for it are the ones it applies.
    return { workerId: enrolled.workerId, tenantId: enrolled.tenantId, signingKeys: this.signingKeys.publicKeys(), pool: enrolled.pool ?? '' };
  }
}

function isStatusError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as ServiceError).code === 'number';
}
