import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, type ResultDispositionName, type ResultToRecord, type WorkerAttemptRef } from '@airlock/data-access';
import { GATEWAY_BUSY_REFUSAL, ID_PATTERNS, WIRE_LIMITS, gatewayBusyRefusalMetadata, type ControlFrame, type WorkerFrame__Output, type WorkerGatewayHandlers } from '@airlock/protocol';
import { CLOCK, type Clock } from '../common/clock';
import { GroupCommit } from '../common/group-commit';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JOB_DISPATCHER, type JobDispatcher } from '../dispatch/job-dispatcher';
import { WorkerSessionRegistry } from '../dispatch/worker-session.registry';
import { EnrollmentService } from '../enrollment/enrollment.service';
import { EVENT_BUS, type EventBus } from '../events/event-bus';
import { ControlPlaneMetrics } from '../metrics/control-plane.metrics';
import { PolicyDistributor } from '../policies/policy-distributor';
import { SigningKeyService } from '../signing/signing-key.service';
import { CentralJobLimits } from './central-job-limits';
import { HandshakeAdmission, type HandshakeCounts } from './handshake-admission';
import { WorkerBatches } from './worker-batches';
import { ClientCertificateAuthority, MAX_TLS_PUBLIC_KEY_BYTES, TlsPublicKeyInvalidError } from './client-certificate-authority';
import { WorkerStreamSession } from './worker-stream.session';

/** The most acks, or results, one transaction records; a busier gateway commits the rest in the next. */
const MAX_FRAMES_PER_COMMIT = 256;

/** How long a worker has to answer the challenge with its Hello. */
export const HELLO_TIMEOUT_MS = 10_000;

/** At most one log line about refused handshakes this often: a storm refuses thousands. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

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
  /** Bounds the handshakes in progress; the rest are refused at once with a retry-after hint. */
  private readonly handshakes: HandshakeAdmission;
  /** The handshakes' and heartbeats' reads and writes of every stream, batched. */
  private readonly batches: WorkerBatches;
  /** The client CA of mutual TLS, when the gateway has one (AIRLOCK_GRPC_CLIENT_CA_*). */
  private readonly clientCa: Promise<ClientCertificateAuthority> | undefined;
  /** Refusals not logged yet, and when they were last logged. */
  private refusalsSinceLog = 0;
  private refusalsLoggedAt = Number.NEGATIVE_INFINITY;

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
    private readonly metrics: ControlPlaneMetrics,
  ) {
    this.jobLimits = new CentralJobLimits(data.policies, this.logger);
    this.acks = new GroupCommit((refs) => data.jobs.recordAcks(refs, clock.now()), MAX_FRAMES_PER_COMMIT);
    this.results = new GroupCommit((items) => data.jobs.recordResults(items, clock.now()), MAX_FRAMES_PER_COMMIT);
    this.handshakes = new HandshakeAdmission(config.grpc.maxHandshakes);
    this.batches = new WorkerBatches(data, clock, (steps) => this.handshakes.recordAbandoned(steps));
    const clientCa = config.grpc.tls?.clientCa;
    this.clientCa = clientCa && ClientCertificateAuthority.load(clientCa);
  }

  /** What the handshake admission counted (in progress, refused, abandoned), and the handshake steps waiting for a batch. */
  handshakeCounts(): HandshakeCounts & { readonly stepsWaiting: number } {
    return { ...this.handshakes.counts(), stepsWaiting: this.batches.handshakeStepsWaiting };
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
        const slot = this.handshakes.tryAdmit();
        if (!slot) return this.refuseBusy(call);
        new WorkerStreamSession(
          call,
          {
            data: this.data,
            batches: this.batches,
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
            frameSigner: () => this.signingKeys.currentSigner(),
            clientCa: this.clientCa,
            metrics: this.metrics,
          },
          slot,
        );
      },
    };
  }

  /**
   * Turns a Connect away at once, before any Challenge (GATEWAY_BUSY_REFUSAL): nothing is
   * read or checked, and the worker is told when to try again. Logged as a count, at most
   * every REFUSAL_LOG_INTERVAL_MS.
   */
  private refuseBusy(call: grpc.ServerDuplexStream<WorkerFrame__Output, ControlFrame>): void {
    const retryAfterMs = this.handshakes.retryAfterMs();
    this.metrics.handshakeRefused('gateway_busy');
    this.refusalsSinceLog += 1;
    const now = performance.now();
    if (now - this.refusalsLoggedAt >= REFUSAL_LOG_INTERVAL_MS) {
      const { inProgress, limit } = this.handshakes.counts();
      this.logger.warn({ event: 'worker_handshakes_refused', refusedSinceLastLog: this.refusalsSinceLog, inProgress, limit, retryAfterMs });
      this.refusalsSinceLog = 0;
      this.refusalsLoggedAt = now;
    }
    // grpc-js turns an 'error' on a server stream into the call's final status.
    call.emit('error', {
      code: GATEWAY_BUSY_REFUSAL.status,
      details: `the control plane has ${this.config.grpc.maxHandshakes} worker handshakes in progress: try again in ${retryAfterMs} ms`,
      metadata: gatewayBusyRefusalMetadata(retryAfterMs),
    });
  }

  private async enroll(request: { enrollmentToken: string; workerPublicKey: Buffer; workerVersion: string; tlsPublicKey: Buffer }) {
    if (!ID_PATTERNS.enrollmentToken.test(request.enrollmentToken)) {
      throw statusError(grpc.status.INVALID_ARGUMENT, 'enrollmentToken: expected aet_ followed by 43 base64url characters');
    }
    if (request.workerPublicKey.length !== WIRE_LIMITS.ed25519PublicKeyBytes) {
      throw statusError(grpc.status.INVALID_ARGUMENT, `workerPublicKey: expected ${WIRE_LIMITS.ed25519PublicKeyBytes} bytes (raw Ed25519)`);
    }
    if (!ID_PATTERNS.semver.test(request.workerVersion)) {
      throw statusError(grpc.status.INVALID_ARGUMENT, 'workerVersion: expected a semantic version');
    }
    const clientCa = await this.clientCa;
    if (request.tlsPublicKey.length > MAX_TLS_PUBLIC_KEY_BYTES) throw statusError(grpc.status.INVALID_ARGUMENT, `tlsPublicKey: expected at most ${MAX_TLS_PUBLIC_KEY_BYTES} bytes`);
    // Checked before the token is spent: a worker that could not connect afterwards would have used it for nothing.
    if (clientCa?.mode === 'require' && request.tlsPublicKey.length === 0) {
      throw statusError(grpc.status.FAILED_PRECONDITION, 'tlsPublicKey: this control plane requires client certificates (mutual TLS); upgrade the worker, which sends its TLS key when it enrolls');
    }
    if (clientCa && request.tlsPublicKey.length > 0) {
      try {
        await clientCa.checkKey(request.tlsPublicKey);
      } catch (error) {
        if (error instanceof TlsPublicKeyInvalidError) throw statusError(grpc.status.INVALID_ARGUMENT, error.message);
        throw error;
      }
    }
    const enrolled = await this.enrollment.enroll(request.enrollmentToken, request.workerPublicKey, request.workerVersion);
    // Unknown, used and expired tokens are answered alike: no oracle for token guessing.
    if (!enrolled) throw statusError(grpc.status.UNAUTHENTICATED, 'enrollment token not accepted');
    this.logger.log({ event: 'worker_enrolled', workerId: enrolled.workerId, tenantId: enrolled.tenantId, pool: enrolled.pool });
    // The worker counts the token's pool among its own (proto3: empty string for none), so the
    // pool layers the control plane sends for it are the ones it applies.
    const clientCertificatePem = clientCa && request.tlsPublicKey.length > 0 ? await clientCa.issue(enrolled.workerId, enrolled.tenantId, request.tlsPublicKey, this.clock.now()) : '';
    // The keys GET /signing-keys lists: with a rotation under way, the staged key too, so the new worker needs no restart when it is activated.
    const signingKeys = (await this.signingKeys.list()).map(({ keyId, publicKey }) => ({ keyId, publicKey }));
    return { workerId: enrolled.workerId, tenantId: enrolled.tenantId, signingKeys, pool: enrolled.pool ?? '', clientCertificatePem };
  }
}

function isStatusError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as ServiceError).code === 'number';
}
