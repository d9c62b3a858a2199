/**
 * `npm run bench:revocation`: one table from one run. How long an admin's revocation takes
 * to end the revoked worker's stream, and whether the worker's reconnects right after are
 * refused, with one control-plane replica and with several behind NATS:
 * - for each of --workers enrolled workers in turn, `POST /api/v1/workers/{id}/revoke` sent
 *   → the worker's Connect stream ended with WORKER_REVOKED_REFUSAL (PERMISSION_DENIED and
 *   `airlock-refusal: worker-revoked`), read with `performance.now()` in this process;
 * - then, at once, the reconnects a worker ignoring the refusal would make: a new Connect on
 *   its own channel (the same connection, so the replica that just ended the stream), and a
 *   Connect on a fresh channel straight to each replica. Every one must be refused with the
 *   same refusal; one that is welcomed is reported as a failure.
 * - the baseline, measured just before each revocation on the same worker and the same
 *   replica the revocation is sent to: `GET /api/v1/workers/{id}` (a cheap authenticated REST
 *   round trip) and a heartbeat → lease renewal on the worker's own stream (a gRPC round trip).
 *
 * The workers are this process's: enrolled for real through the Enroll RPC (scripts/fleet-
 * simulator.ts), each on a channel of its own over TLS, running the real worker's session
 * code (GatewaySession: Challenge → signed Hello → Welcome, every frame validated) and
 * heartbeating at the worker's interval. The stack is `startLocalStack` on a throwaway
 * PostgreSQL cluster with fsync on; it also runs one real `airlock-worker`, which the run
 * revokes last and watches exit (a revoked worker exits with code 5).
 *
 * With replicas, each worker is connected alone, and the replica whose gRPC port gained the
 * ESTABLISHED connection (/proc/net/tcp) is its stream's holder; the revocation is sent
 * straight to the HTTP port of the next replica, so every revocation crosses replicas over
 * NATS (nats-fleet-commands.ts).
 *
 * Flags: --workers N revocations per stack (default 200), --replicas N the replicated stack's
 * control planes (default 3), --keep leaves the temporary folder (the stacks' logs). Progress
 * goes to stderr, the report to stdout. A SIGINT or SIGTERM stops every process it started.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash, sign } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneApiClient, startLocalStack, type LocalStack } from '@airlock/local-stack';
import { helloChallengeMessage, loadAirlockV1, validateWorkerFrame, type ControlFrame__Output, type WorkerFrame__Output, type WorkerGatewayClient } from '@airlock/protocol';
import { createDatabase, startNatsServer, startPostgresCluster } from '@airlock/testing';
/* eslint-disable @nx/enforce-module-boundaries -- as in fleet-simulator.ts: the benchmark's workers speak with the worker's own session code. */
import { GatewaySession, type SessionEnd, type SessionGate } from '../apps/worker/src/gateway/gateway.session';
import type { FrameSink } from '../apps/worker/src/gateway/outbound.gate';
import { jittered } from '../apps/worker/src/gateway/reconnect.backoff';
import { WORKER_CHANNEL_OPTIONS } from '../apps/worker/src/gateway/worker-gateway.client-factory';
import { heartbeatIntervalFor } from '../apps/worker/src/daemon/session.loop';
import { systemClock, type ClockTimer } from '../apps/worker/src/daemon/daemon.clock';
import type { LogFields, LogLevel, Logger } from '../apps/worker/src/logging/json-logger';
/* eslint-enable @nx/enforce-module-boundaries */
import { establishedConnectionsOnPort, stopEverythingOnSignals, stopOnSignal } from './bench-process';
import { summarise, type Summary } from './bench-summary';
import { enrollFleet, type EnrolledIdentity, type FleetTarget } from './fleet-simulator';

const flag = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} expects a positive integer`);
  return value;
};
const WORKERS = flag('workers', 200);
const REPLICAS = flag('replicas', 3);
const KEEP = process.argv.includes('--keep');

/** The issue's goal: the revoked worker's stream is closed within one second. */
const GOAL_MS = 1_000;
/** How long a revocation may take before its stream is reported as still open. */
const CLOSE_TIMEOUT_MS = 10_000;
const WELCOME_TIMEOUT_MS = 15_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;
/** How long the real worker may take to exit once revoked. */
const EXIT_TIMEOUT_MS = 15_000;
const ENROLL_CONCURRENCY = 8;
/** What every benchmark worker says of itself in its Hello: a supported version, one slot. */
const WORKER_PROFILE = { version: '0.1.0', capacity: 1 } as const;
/** The exit code of a revoked worker (docs/worker.md). */
const REVOKED_EXIT_CODE = 5;

const progress = (line: string): void => void process.stderr.write(`  ${line}\n`);

/** `promise`'s value, or `undefined` once `timeoutMs` passed first; the timer never outlives the race. */
async function within<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The worker's log, kept quiet: what the session code warned about is counted by event. */
class QuietLogger implements Logger {
  readonly warnings = new Map<string, number>();

  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    if (level !== 'warn' && level !== 'error') return;
    const key = typeof fields['reason'] === 'string' ? `${event} (${fields['reason']})` : event;
    this.warnings.set(key, (this.warnings.get(key) ?? 0) + 1);
  }

  info(event: string, fields?: LogFields): void {
    this.log('info', event, fields);
  }

  warn(event: string, fields?: LogFields): void {
    this.log('warn', event, fields);
  }

  error(event: string, fields?: LogFields): void {
    this.log('error', event, fields);
  }

  child(): Logger {
    return this;
  }
}

/** A channel of its own (see fleet-simulator.ts): grpc-js would otherwise share one connection among the workers. */
function workerChannel(address: string, caPem: Buffer): WorkerGatewayClient {
  const { WorkerGateway } = loadAirlockV1();
  return new WorkerGateway(address, grpc.credentials.createSsl(caPem), { ...WORKER_CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_http_proxy': 0 });
}

/** How one Connect ended, as far as a revocation is concerned. */
type ConnectOutcome =
  | { readonly kind: 'refused-revoked'; readonly ms: number }
  | { readonly kind: 'welcomed' }
  | { readonly kind: 'other'; readonly reason: string };

function describe(end: SessionEnd): string {
  return end.status === undefined ? end.reason : `${grpc.status[end.status] ?? end.status}${end.welcomed ? ' after Welcome' : ' before Welcome'}`;
}

/**
 * One Connect stream of an enrolled worker, driven by the worker's GatewaySession: it answers
 * the Challenge with a signed Hello, sends its credit after the Welcome and heartbeats at the
 * worker's interval until the stream ends. Any frame other than a lease renewal or a policy
 * bundle is left unanswered (a worker holding no job gets none).
 */
class WorkerStream {
  readonly welcomed: Promise<boolean>;
  /** When and how the stream ended. */
  readonly ended: Promise<{ readonly end: SessionEnd; readonly at: number }>;
  readonly openedAt = performance.now();
  private readonly session: GatewaySession;
  private sink: FrameSink | undefined;
  private heartbeatTimer: ClockTimer | undefined;
  private heartbeatSeq = 0;
  private ledgerSeq = 0;
  private readonly renewals = new Map<number, () => void>();
  private markWelcomed!: (welcomed: boolean) => void;

  constructor(
    private readonly identity: EnrolledIdentity,
    client: WorkerGatewayClient,
    logger: Logger,
  ) {
    this.welcomed = new Promise((resolve) => (this.markWelcomed = resolve));
    const gate: SessionGate = {
      attach: (sink) => (this.sink = sink),
      send: (frame) => {
        validateWorkerFrame(frame);
        if (!this.sink) return false;
        this.sink.write(frame);
        return true;
      },
    };
    const send = (frame: WorkerFrame__Output): void => void gate.send(frame);
    this.session = new GatewaySession(
      () => client.Connect(),
      gate,
      {
        hello: (nonce) => ({
          workerId: identity.workerId,
          challengeSignature: sign(null, helloChallengeMessage(identity.workerId, nonce), identity.privateKey),
          workerVersion: WORKER_PROFILE.version,
          capacity: WORKER_PROFILE.capacity,
          running: [],
          localPolicyDigest: Buffer.alloc(32),
          labels: [],
          policyRevision: 0,
        }),
        welcomed: (heartbeatIntervalMs, leaseTtlMs) => {
          send({ frame: 'credit', credit: { credits: WORKER_PROFILE.capacity } });
          this.scheduleHeartbeat(heartbeatIntervalFor(heartbeatIntervalMs, leaseTtlMs));
          this.markWelcomed(true);
        },
        frame: (frame: ControlFrame__Output) => {
          if (frame.frame === 'leaseRenewal') this.renewals.get(frame.leaseRenewal!.heartbeatSeq)?.();
        },
        malformedInstruction: () => undefined,
        malformedPolicyBundle: () => undefined,
        failed: () => undefined,
      },
      logger,
      systemClock,
    );
    this.ended = this.session.done.then((end) => {
      const at = performance.now();
      this.heartbeatTimer?.cancel();
      this.markWelcomed(false);
      return { end, at };
    });
  }

  /** Sends a heartbeat now and resolves with the milliseconds until its lease renewal came back. */
  async heartbeatRoundTrip(): Promise<number> {
    const sentAt = performance.now();
    const answered = new Promise<true>((resolve) => this.renewals.set(this.heartbeatSeq + 1, () => resolve(true)));
    this.heartbeat();
    if (!(await within(answered, HEARTBEAT_TIMEOUT_MS))) throw new Error(`worker ${this.identity.workerId}: no lease renewal ${HEARTBEAT_TIMEOUT_MS} ms after a heartbeat`);
    return performance.now() - sentAt;
  }

  /** Half-closes the stream; drops it if the control plane has not ended it within two seconds. */
  async close(): Promise<void> {
    this.session.close();
    const timer = setTimeout(() => this.session.abandon('closed by the benchmark'), 2_000);
    await this.ended;
    clearTimeout(timer);
  }

  private heartbeat(): void {
    const seq = ++this.heartbeatSeq;
    const ledgerSeq = ++this.ledgerSeq;
    const ledgerHead = createHash('sha256').update(`${this.identity.workerId}:${ledgerSeq}`).digest();
    if (this.sink) this.sink.write({ frame: 'heartbeat', heartbeat: { running: [], freeSlots: WORKER_PROFILE.capacity, seq, ledgerSeq, ledgerHead } });
  }

  private scheduleHeartbeat(intervalMs: number): void {
    this.heartbeatTimer = systemClock.after(jittered(intervalMs), () => {
      this.heartbeat();
      this.scheduleHeartbeat(intervalMs);
    });
  }
}

/** One Connect on `client` to its end or its Welcome; a welcomed stream is closed again. */
async function tryConnect(identity: EnrolledIdentity, client: WorkerGatewayClient, logger: Logger): Promise<ConnectOutcome> {
  const stream = new WorkerStream(identity, client, logger);
  const welcomed = await within(stream.welcomed, WELCOME_TIMEOUT_MS);
  if (welcomed !== false) {
    await stream.close();
    return welcomed ? { kind: 'welcomed' } : { kind: 'other', reason: `neither welcomed nor refused within ${WELCOME_TIMEOUT_MS} ms` };
  }
  const { end, at } = await stream.ended;
  return end.revoked && !end.welcomed ? { kind: 'refused-revoked', ms: at - stream.openedAt } : { kind: 'other', reason: describe(end) };
}

/** What one stack's run measured. */
interface RevocationRun {
  readonly label: string;
  readonly replicas: number;
  /** Revocations sent, one per worker. */
  readonly revocations: number;
  /** Revoke sent → stream ended with the revoked refusal. */
  readonly toClosed: number[];
  /** Revoke sent → the REST call answered. */
  readonly callAnswered: number[];
  /** Streams that ended some other way, or not within CLOSE_TIMEOUT_MS, by reason. */
  readonly notClosedByRefusal: Map<string, number>;
  readonly reconnectsAttempted: number;
  readonly reconnectsRefused: number;
  /** Connect → refusal, of every refused reconnect. */
  readonly refusalMs: number[];
  /** Reconnects that were welcomed (a failure) or ended otherwise, by reason. */
  readonly reconnectsNotRefused: Map<string, number>;
  readonly baselineGet: number[];
  readonly baselineHeartbeat: number[];
  /** With replicas: revocations sent to a replica other than the stream's holder, and those whose holder could not be told. */
  readonly crossed: number;
  readonly holderUnknown: number;
  /** The stack's real worker: revoke sent → its process exited, and with what code. */
  readonly realWorker: { readonly exitMs: number; readonly exitCode: number | null | undefined } | { readonly error: string };
  readonly warnings: Map<string, number>;
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

interface ReplicaEndpoints {
  readonly grpcAddress: string;
  readonly grpcPort: number;
  readonly api: ControlPlaneApiClient;
}

function replicaEndpoints(stack: LocalStack, token: string): ReplicaEndpoints[] {
  return stack.controlPlane.replicas.map((replica) => {
    const ready = replica.process.allEvents().find((event) => event.event === 'ready');
    const grpcAddress = String(ready?.['grpcAddress'] ?? '');
    return { grpcAddress, grpcPort: Number(grpcAddress.split(':').pop()), api: new ControlPlaneApiClient(String(ready?.['httpUrl'] ?? ''), token) };
  });
}

/** Waits until the ESTABLISHED connections on every replica's gRPC port have not changed for a moment (the enrollment channel closing). */
async function settledCounts(replicas: readonly ReplicaEndpoints[]): Promise<number[]> {
  let previous = replicas.map((replica) => establishedConnectionsOnPort(replica.grpcPort));
  for (let round = 0; round < 50; round += 1) {
    await sleep(100);
    const now = replicas.map((replica) => establishedConnectionsOnPort(replica.grpcPort));
    if (now.every((count, index) => count === previous[index])) return now;
    previous = now;
  }
  return previous;
}

/** Starts a stack of `replicas` control planes (NATS past one), enrolls and connects WORKERS workers, and revokes each in turn. */
async function runStack(clusterUrl: string, baseDir: string, replicas: number): Promise<RevocationRun> {
  const label = replicas === 1 ? 'one replica (in process, no NATS)' : `${replicas} replicas, revoked through another replica (NATS)`;
  const nats = replicas > 1 ? await startNatsServer() : undefined;
  const stopNats = nats ? stopOnSignal(() => nats.stop()) : async () => undefined;
  try {
    const databaseUrl = await createDatabase(clusterUrl, replicas === 1 ? 'bench_revocation' : 'bench_revocation_replicas');
    progress(`${label}: starting the stack`);
    const stack = await startLocalStack({
      baseDir,
      canary: 'bench',
      databaseUrl,
      controlPlaneEnv: { LOG_LEVEL: 'warn' },
      ...(nats ? { replicas: { count: replicas, natsUrl: nats.url } } : {}),
    });
    const stopStack = stopOnSignal(() => stack.stop());
    const streams: WorkerStream[] = [];
    const channels: WorkerGatewayClient[] = [];
    try {
      const token = readFileSync(stack.adminTokenFile, 'utf8').trim();
      const endpoints = replicaEndpoints(stack, token);
      const caPem = readFileSync(stack.controlPlane.grpcCaFile!);
      const target: FleetTarget = { address: stack.controlPlane.grpcAddress, caPem };
      progress(`${label}: enrolling ${WORKERS} workers`);
      const identities = await enrollFleet(target, WORKERS, {
        createToken: async () => (await stack.api.createEnrollmentToken()).token,
        concurrency: ENROLL_CONCURRENCY,
        version: WORKER_PROFILE.version,
      });
      const logger = new QuietLogger();
      // Connected one at a time, so that the replica whose gRPC port gained a connection is the holder.
      progress(`${label}: connecting ${WORKERS} workers one at a time`);
      const holders: Array<number | undefined> = [];
      let counts = replicas > 1 ? await settledCounts(endpoints) : [];
      for (const identity of identities) {
        const client = workerChannel(stack.controlPlane.grpcAddress, caPem);
        channels.push(client);
        const stream = new WorkerStream(identity, client, logger);
        streams.push(stream);
        const welcomed = await within(stream.welcomed, WELCOME_TIMEOUT_MS);
        if (!welcomed) throw new Error(`worker ${identity.workerId} was not welcomed: ${describe((await stream.ended).end)}`);
        if (replicas > 1) {
          const after = endpoints.map((replica) => establishedConnectionsOnPort(replica.grpcPort));
          const gained = after.flatMap((count, index) => (count === (counts[index] ?? 0) + 1 ? [index] : []));
          holders.push(gained.length === 1 && after.reduce((a, b) => a + b, 0) === counts.reduce((a, b) => a + b, 0) + 1 ? gained[0] : undefined);
          counts = after;
        } else {
          holders.push(0);
        }
      }
      if (replicas > 1) progress(`${label}: streams per replica ${endpoints.map((_, index) => holders.filter((holder) => holder === index).length).join(', ')}`);

      const run = {
        toClosed: [] as number[],
        callAnswered: [] as number[],
        notClosedByRefusal: new Map<string, number>(),
        reconnectsAttempted: 0,
        reconnectsRefused: 0,
        refusalMs: [] as number[],
        reconnectsNotRefused: new Map<string, number>(),
        baselineGet: [] as number[],
        baselineHeartbeat: [] as number[],
        crossed: 0,
        holderUnknown: 0,
      };
      progress(`${label}: revoking ${WORKERS} workers one after another`);
      for (const [index, identity] of identities.entries()) {
        const stream = streams[index]!;
        const holder = holders[index];
        // The revocation goes to another replica than the holder, so that it must cross; through the balancer when the holder is unknown.
        const api = replicas === 1 ? stack.api : holder === undefined ? stack.api : endpoints[(holder + 1) % replicas]!.api;
        if (replicas > 1) {
          if (holder === undefined) run.holderUnknown += 1;
          else run.crossed += 1;
        }
        const calledAt = performance.now();
        const got = await api.request<{ revoked: boolean }>('GET', `/workers/${identity.workerId}`);
        run.baselineGet.push(performance.now() - calledAt);
        if (got.status !== 200 || got.body.revoked) throw new Error(`GET /workers/${identity.workerId} answered ${got.status} (revoked: ${String(got.body?.revoked)})`);
        run.baselineHeartbeat.push(await stream.heartbeatRoundTrip());

        const sentAt = performance.now();
        const closed = within(stream.ended, CLOSE_TIMEOUT_MS);
        const revoked = await api.request<{ revoked: boolean }>('POST', `/workers/${identity.workerId}/revoke`);
        run.callAnswered.push(performance.now() - sentAt);
        if (revoked.status !== 200 || !revoked.body.revoked) throw new Error(`POST /workers/${identity.workerId}/revoke answered ${revoked.status}: ${JSON.stringify(revoked.body)}`);
        const ended = await closed;
        if (!ended) {
          bump(run.notClosedByRefusal, `still open ${CLOSE_TIMEOUT_MS} ms after the revoke`);
          await stream.close();
        } else if (ended.end.revoked && ended.end.welcomed) {
          run.toClosed.push(ended.at - sentAt);
        } else {
          bump(run.notClosedByRefusal, `ended without the revoked refusal: ${describe(ended.end)}`);
        }

        // At once, as a worker ignoring the refusal would: again on its own channel, then on a fresh channel to every replica.
        const attempts: Array<() => Promise<ConnectOutcome>> = [
          () => tryConnect(identity, channels[index]!, logger),
          ...endpoints.map((replica) => async () => {
            const client = workerChannel(replica.grpcAddress, caPem);
            try {
              return await tryConnect(identity, client, logger);
            } finally {
              client.close();
            }
          }),
        ];
        for (const attempt of attempts) {
          const outcome = await attempt();
          run.reconnectsAttempted += 1;
          if (outcome.kind === 'refused-revoked') {
            run.reconnectsRefused += 1;
            run.refusalMs.push(outcome.ms);
          } else {
            bump(run.reconnectsNotRefused, outcome.kind === 'welcomed' ? 'WELCOMED after its revocation' : outcome.reason);
          }
        }
        channels[index]!.close();
        if ((index + 1) % 25 === 0) progress(`${label}: ${index + 1} revoked`);
      }

      progress(`${label}: revoking the stack's real worker`);
      const realWorker = await revokeRealWorker(stack, new Set(identities.map((identity) => identity.workerId)));
      return { label, replicas, revocations: identities.length, ...run, realWorker, warnings: logger.warnings };
    } finally {
      await Promise.all(streams.map((stream) => stream.close().catch(() => undefined)));
      for (const channel of channels) channel.close();
      await stopStack();
    }
  } finally {
    await stopNats();
  }
}

/** Revokes the stack's own `airlock-worker run` and times its exit. */
async function revokeRealWorker(stack: LocalStack, simulated: ReadonlySet<string>): Promise<RevocationRun['realWorker']> {
  const real = (await stack.api.workers()).find((worker) => !simulated.has(worker.id));
  if (!real) return { error: 'the real worker is not in GET /workers' };
  const sentAt = performance.now();
  const revoked = await stack.api.request('POST', `/workers/${real.id}/revoke`);
  if (revoked.status !== 200) return { error: `its revoke answered ${revoked.status}` };
  const exited = await within(stack.worker.process.waitForExit().then(() => true), EXIT_TIMEOUT_MS);
  if (!exited) return { error: `still running ${EXIT_TIMEOUT_MS} ms after its revoke` };
  return { exitMs: performance.now() - sentAt, exitCode: stack.worker.process.exitCode };
}

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : '—';
}

function report(runs: readonly RevocationRun[]): string[] {
  const header = ['stack', 'n', 'revoke → stream closed p50', 'p99', 'max', 'revoke call answered p50', 'reconnects refused', 'baseline: GET /workers/{id} p50', 'baseline: heartbeat → renewal p50'];
  const rows = runs.map((run) => {
    const closed: Summary = summarise(run.toClosed);
    const refused = `${run.reconnectsRefused}/${run.reconnectsAttempted}${run.reconnectsRefused === run.reconnectsAttempted ? '' : ' FAILED'}`;
    return [run.label, `${closed.n}/${run.revocations}`, ms(closed.p50), ms(closed.p99), ms(closed.max), ms(summarise(run.callAnswered).p50), refused, ms(summarise(run.baselineGet).p50), ms(summarise(run.baselineHeartbeat).p50)];
  });
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  const out = ['(milliseconds)', line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line), ''];

  out.push(`goal: the revoked worker's stream closed within ${GOAL_MS} ms of the revoke (the benchmark reports; it does not pass or fail):`);
  for (const run of runs) {
    const closed = summarise(run.toClosed);
    const allClosed = closed.n === run.revocations;
    const met = allClosed && closed.max <= GOAL_MS;
    out.push(`  ${run.label}: max ${ms(closed.max)} ms over ${closed.n} of ${run.revocations} revocations — ${met ? 'met' : 'NOT MET'}`);
  }
  out.push('');
  for (const run of runs) {
    out.push(`${run.label}:`);
    for (const [reason, count] of run.notClosedByRefusal) out.push(`  !!! ${count} stream(s) not closed by the revoked refusal: ${reason}`);
    for (const [reason, count] of run.reconnectsNotRefused) out.push(`  !!! ${count} reconnect(s) not refused: ${reason}`);
    const refusal = summarise(run.refusalMs);
    out.push(
      `  reconnects: ${run.reconnectsRefused} of ${run.reconnectsAttempted} refused with the revoked refusal (${run.reconnectsAttempted / Math.max(1, run.revocations)} per worker: again on its own channel at once, ` +
        `then a fresh channel to ${run.replicas === 1 ? 'the replica' : `each of the ${run.replicas} replicas`}); Connect → refusal p50 ${ms(refusal.p50)}, max ${ms(refusal.max)} ms`,
    );
    if (run.replicas > 1) out.push(`  ${run.crossed} revocations sent to a replica other than the stream's holder, ${run.holderUnknown} through the balancer (holder not told apart)`);
    const closed = summarise(run.toClosed);
    out.push(`  revoke → stream closed p90 ${ms(closed.p90)} ms; baseline GET p99 ${ms(summarise(run.baselineGet).p99)} ms, heartbeat → renewal p99 ${ms(summarise(run.baselineHeartbeat).p99)} ms`);
    const real = run.realWorker;
    out.push(
      'error' in real
        ? `  !!! the stack's real worker: ${real.error}`
        : `  the stack's real airlock-worker: revoke sent → process exited in ${ms(real.exitMs)} ms with code ${String(real.exitCode)}${real.exitCode === REVOKED_EXIT_CODE ? '' : ` — NOT the revoked code ${REVOKED_EXIT_CODE}`}`,
    );
    if (run.warnings.size > 0) out.push(`  the workers' session code warned: ${[...run.warnings].map(([event, count]) => `${event} ×${count}`).join(', ')}`);
  }
  return out;
}

async function main(): Promise<void> {
  stopEverythingOnSignals();
  const began = performance.now();
  const cpuList = cpus();
  const header =
    `bench:revocation — ${new Date().toISOString().slice(0, 10)}; Node ${process.version}; ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; ` +
    `load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}\n` +
    `${WORKERS} enrolled workers per stack, each revoked in turn through POST /api/v1/workers/{id}/revoke; one control plane, then ${REPLICAS} replicas behind one TCP balancer with nats-server; gateway over TLS`;
  process.stderr.write(`${header}\n`);
  const baseDir = mkdtempSync(join(tmpdir(), 'airlock-bench-revocation-'));
  const removeBaseDir = stopOnSignal(async () => {
    if (KEEP) process.stderr.write(`kept ${baseDir} (the stacks' logs are in one-replica/logs/ and ${REPLICAS}-replicas/logs/)\n`);
    else rmSync(baseDir, { recursive: true, force: true });
  });
  try {
    const cluster = await startPostgresCluster({ durable: true });
    const stopCluster = stopOnSignal(() => cluster.stop());
    try {
      const runs = [await runStack(cluster.url, join(baseDir, 'one-replica'), 1), await runStack(cluster.url, join(baseDir, `${REPLICAS}-replicas`), REPLICAS)];
      const out = [header, '', ...report(runs), ''];
      out.push(`bench:revocation took ${((performance.now() - began) / 1000).toFixed(0)} s; load average at the end ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
      process.stdout.write(`${out.join('\n')}\n`);
    } finally {
      await stopCluster();
    }
  } finally {
    await removeBaseDir();
  }
}

main().catch((error: unknown) => {
  console.error(`bench:revocation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
