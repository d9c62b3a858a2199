import { status } from '@grpc/grpc-js';

/**
 * The gRPC statuses with which a control plane refuses the worker itself, at the Hello: an
 * identity it does not know (never enrolled there, or deleted), a key that does not match,
 * or a worker revoked. Reconnecting cannot change any of them; only enrolling again can.
 */
export const IDENTITY_REFUSAL_STATUSES: ReadonlySet<number> = new Set([status.UNAUTHENTICATED, status.PERMISSION_DENIED]);

/**
 * The control plane refused this worker's identity on every one of the last `attempts`
 * connections, or said once that the worker is revoked: unrecoverable, so the daemon stops
 * (exit code `identityRefused`) instead of reconnecting forever with credentials that will
 * never be accepted.
 */
export class WorkerIdentityRefusedError extends Error {
  override readonly name = 'WorkerIdentityRefusedError';
  readonly code = 'WORKER_IDENTITY_REFUSED';

  constructor(
    readonly workerId: string,
    readonly grpcStatus: number,
    readonly attempts: number,
    /** The control plane said outright that an admin revoked the worker (WORKER_REVOKED_REFUSAL). */
    readonly revoked = false,
  ) {
    super(
      revoked
        ? `the control plane revoked this worker (${status[grpcStatus] ?? `status ${grpcStatus}`}): an admin revoked worker ${workerId}, ` +
            'and it will never be accepted again. To bring this machine back, enroll it anew with a new token ' +
            '(airlock-worker enroll --config <file> --token-file <file> --force), then start it again.'
        : `the control plane refused this worker (${status[grpcStatus] ?? `status ${grpcStatus}`}) on ${attempts} consecutive connections: ` +
            `worker ${workerId} is unknown to it or was revoked. Enroll it again with a new token ` +
            '(airlock-worker enroll --config <file> --token-file <file> --force), then start it again. ' +
            "If the control plane's database was just restored, start the worker again once it is back.",
    );
  }
}
