import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { verifyBytes } from '@airlock/envelope';
import { decodeInstructionPayload, loadAirlockV1, type WorkerGatewayClient } from '@airlock/protocol';
import { createTenantWithAdminToken } from '../test-support/tenant.fixture';
import { eventually, gatewayClient, enroll, succeededResult, TestWorker } from '../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from './control-plane';
import type { JobDetailResponse, JobResponse } from './jobs/dto/job.response';
import { testAppConfig } from '../test-support/test-app-config';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let client: WorkerGatewayClient;
let tenantCounter = 0;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const databaseUrl = await createDatabase(cluster.url, 'control_plane_it');
  controlPlane = await startControlPlane(
    testAppConfig(databaseUrl, { AIRLOCK_LEASE_TTL: '1s', AIRLOCK_HEARTBEAT_INTERVAL: '200ms', AIRLOCK_MAX_ATTEMPTS: '3' }),
  );
  client = gatewayClient(controlPlane.grpcAddress);
});

afterAll(async () => {
  client?.close();
  await controlPlane?.stop();
  await cluster?.stop();
});

function newTenant(): Promise<{ token: string; tenantId: string }> {
  tenantCounter += 1;
  return createTenantWithAdminToken(controlPlane.dataAccess, `it-tenant-${tenantCounter}`);
}

/** A response body as the assertions read it; each call site names the shape it expects. */
type Body = Record<string, unknown>;

async function api<T = Body>(token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function connectedWorker(token: string, capacity = 4): Promise<TestWorker> {
  const worker = new TestWorker(client);
  const { body } = await api<{ token: string }>(token, 'POST', '/enrollment-tokens', {});
  await worker.enroll(body.token);
  await worker.connect({ capacity });
  await eventually(() => worker.received.find((f) => f.frame === 'welcome'), 'welcome');
  return worker;
}

const noopJob = { kind: 'noop' };
const fixJob = { kind: 'fix', repoAlias: 'demo-repo', baseRef: 'main', ticket: { title: 'Fix the off-by-one', description: 'pagination skips the last item' } };


/** What a worker sends when it stopped an attempt because it was told to cancel it. */
function cancelledResult(jobId: string, attempt: number) {
  const { result } = succeededResult(jobId, attempt);
  return { result: { ...result, outcome: 'JOB_OUTCOME_CANCELLED' as const, failureCode: 'CANCELLED' as const, changeMac: Buffer.alloc(0) } };
}

/** A running attempt: the worker got the job's first instruction and acknowledged it. */
async function runningJob(token: string, worker: TestWorker): Promise<string> {
  const jobId = (await api<JobDetailResponse>(token, 'POST', '/jobs', noopJob)).body.id;
  const before = worker.instructions().length;
  worker.send({ credit: { credits: 1 } });
  await eventually(() => (worker.instructions().length === before + 1 ? true : undefined), 'the instruction');
  worker.send({ ack: { attempt: { jobId, attempt: 1 } } });
  await eventually(async () => ((await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body.status === 'RUNNING' ? true : undefined), 'RUNNING');
  return jobId;
}

const cancelsReceived = (worker: TestWorker, since = 0) =>
  worker.received.slice(since).flatMap((f) => (f.frame === 'cancel' && f.cancel?.attempt ? [f.cancel.attempt] : []));

describe('REST API', () => {
  it('answers health without a token and everything else with 401', async () => {
    expect(await api(null, 'GET', '/health')).toEqual({ status: 200, body: { status: 'ok' } });
    const unauthenticated = await api(null, 'GET', '/jobs');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body.code).toBe('UNAUTHENTICATED');
    expect((await api('alt_' + 'x'.repeat(43), 'GET', '/jobs')).status).toBe(401);
  });

  it('serves the OpenAPI document', async () => {
    const response = await fetch(`${controlPlane.httpUrl}/api/docs-json`);
    const document = (await response.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/v1/jobs', '/api/v1/jobs/{id}', '/api/v1/enrollment-tokens']));
  });

  it('rejects a bad job body with 400 naming the field', async () => {
    const { token } = await newTenant();
    const badAlias = await api(token, 'POST', '/jobs', { ...fixJob, repoAlias: 'Not An Alias' });
    expect(badAlias.status).toBe(400);
    expect(badAlias.body).toEqual({ statusCode: 400, code: 'INVALID_REQUEST', message: expect.stringMatching(/^repoAlias: expected a repository alias matching/) });
    const missingTicket = await api(token, 'POST', '/jobs', { kind: 'fix', repoAlias: 'demo', baseRef: 'main' });
    expect(missingTicket.body.message).toBe('ticket: expected an object (required for a fix job, unless ticketRef names the ticket)');
    const extra = await api(token, 'POST', '/jobs', { ...fixJob, command: 'rm -rf /' });
    expect(extra.body.message).toBe('command: unknown property');
    const twoLineTitle = await api(token, 'POST', '/jobs', { ...fixJob, ticket: { title: 'a\nb' } });
    expect(twoLineTitle.body.message).toBe('ticket.title: expected one non-blank line');
  });

  it("answers 404 for another tenant's job", async () => {
    const owner = await newTenant();
    const stranger = await newTenant();
    const created = await api<JobDetailResponse>(owner.token, 'POST', '/jobs', fixJob);
    expect(created.status).toBe(201);
    expect((await api(owner.token, 'GET', `/jobs/${created.body.id}`)).status).toBe(200);
    const foreign = await api(stranger.token, 'GET', `/jobs/${created.body.id}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('JOB_NOT_FOUND');
    expect((await api(stranger.token, 'GET', '/jobs')).body).toEqual([]);
  });
});

describe('enrollment', () => {
  it('accepts a token exactly once', async () => {
    const { token, tenantId } = await newTenant();
    const { body } = await api<{ token: string }>(token, 'POST', '/enrollment-tokens', { ttlSeconds: 600 });
    const worker = new TestWorker(client);
    const response = await worker.enroll(body.token);
    expect(response.tenantId).toBe(tenantId);
    const keys = (await api<{ keyId: string; publicKey: string }[]>(token, 'GET', '/signing-keys')).body;
    expect(response.signingKeys.map((k) => k.keyId)).toEqual(keys.map((k) => k.keyId));

    await expect(new TestWorker(client).enroll(body.token)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const workers = (await api<unknown[]>(token, 'GET', '/workers')).body;
    expect(workers).toEqual([expect.objectContaining({ id: response.workerId, status: 'OFFLINE', version: '0.1.0' })]);
  });

  it('rejects an expired token and a malformed request', async () => {
    const { tenantId } = await newTenant();
    const expiredToken = `aet_${Buffer.alloc(32, 9).toString('base64url')}`;
    await controlPlane.dataAccess.enrollment.createToken({
      tenantId,
      tokenHash: createHash('sha256').update(expiredToken).digest('hex'),
      expiresAt: new Date(Date.now() - 1_000),
    });
    await expect(new TestWorker(client).enroll(expiredToken)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(enroll(client, { enrollmentToken: expiredToken, workerPublicKey: Buffer.alloc(31), workerVersion: '1.0.0' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^workerPublicKey:/),
    });
  });
});

describe('worker stream', () => {
  it('ends the stream with UNAUTHENTICATED when the hello signature is wrong', async () => {
    const { token } = await newTenant();
    const worker = new TestWorker(client);
    const { body } = await api<{ token: string }>(token, 'POST', '/enrollment-tokens', {});
    await worker.enroll(body.token);
    const impostor = new TestWorker(client);
    await worker.connect({ signWith: impostor.key.privateKeyPem });
    const status = await eventually(() => worker.status ?? undefined, 'stream status');
    expect(status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(worker.received.some((f) => f.frame === 'welcome')).toBe(false);
  });

  it('ends the stream with INVALID_ARGUMENT naming the field of an invalid frame', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token);
    worker.send({ credit: { credits: 0 } });
    const status = await eventually(() => worker.status ?? undefined, 'stream status');
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/^credit\.credits: expected/);
  });

  it('dispatches after credits, verifies, runs and records the result once', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token);
    const created = await api<JobDetailResponse>(token, 'POST', '/jobs', fixJob);
    expect(created.status).toBe(201);
    const jobId = created.body.id;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(worker.instructions()).toHaveLength(0);

    worker.send({ credit: { credits: 1 } });
    const [instruction] = await eventually(() => (worker.instructions().length === 1 ? worker.instructions() : undefined), 'instruction');
    const keys = (await api<{ keyId: string; publicKey: string }[]>(token, 'GET', '/signing-keys')).body;
    const key = keys.find((k) => k.keyId === instruction!.keyId)!;
    expect(verifyBytes(Buffer.from(key.publicKey, 'base64'), instruction!.payload, instruction!.signature)).toBe(true);
    const payload = decodeInstructionPayload(instruction!.payload);
    expect(payload).toMatchObject({ jobId, attempt: 1, audience: worker.workerId, tenantId: worker.tenantId, task: 'fix' });
    expect(payload.fix?.ticket?.title).toBe(fixJob.ticket.title);

    worker.send({ ack: { attempt: { jobId, attempt: 1 } } });
    await eventually(async () => ((await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body.status === 'RUNNING' ? true : undefined), 'RUNNING');
    worker.send({ progress: { attempt: { jobId, attempt: 1 }, phase: 'PHASE_TEST', state: 'PHASE_STATE_STARTED' } });
    worker.send(succeededResult(jobId, 1));
    const [ack] = await eventually(() => (worker.resultAcks().length === 1 ? worker.resultAcks() : undefined), 'result ack');
    expect(ack!.disposition).toBe('RESULT_DISPOSITION_RECORDED');

    const job = (await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body;
    expect(job).toMatchObject({ status: 'SUCCEEDED', currentAttempt: 1, failureCode: null });
    expect(job.attempts).toEqual([expect.objectContaining({ number: 1, workerId: worker.workerId, status: 'SUCCEEDED' })]);
    expect(job.result).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED', contextFiles: 4, changeMac: 'ab'.repeat(32), deliveryMac: null });
    expect(job.events.map((e) => e.type)).toEqual(['CREATED', 'QUEUED', 'DISPATCHED', 'ACKED', 'PHASE_STARTED', 'RESULT_RECORDED']);
    expect(job.implausible).toEqual([]);

    worker.send(succeededResult(jobId, 1));
    const acks = await eventually(() => (worker.resultAcks().length === 2 ? worker.resultAcks() : undefined), 'second result ack');
    expect(acks[1]!.disposition).toBe('RESULT_DISPOSITION_DUPLICATE');
    worker.close();
  });

  it('records a result whose figures no worker could have measured as implausible, and counts it on the worker', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token);
    const jobId = await runningJob(token, worker);
    const { result } = succeededResult(jobId, 1);
    const max = 2 ** 32 - 1;
    // Every count at its type's ceiling: the schema check passes it, the attempt's facts do not.
    worker.send({
      result: {
        ...result,
        phaseDurations: [{ phase: 'PHASE_TEST' as const, durationMs: max }],
        tokens: { requests: max, promptTokens: max, completionTokens: max },
        change: { filesChanged: max, linesAdded: max, linesRemoved: max, editsProposed: max, editsApplied: max },
      },
    });
    await eventually(() => (worker.resultAcks().length === 1 ? true : undefined), 'result ack');
    const job = (await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body;
    expect(job).toMatchObject({ status: 'SUCCEEDED', implausible: ['durations-exceed-wall-time', 'tokens-exceed-every-budget', 'change-exceeds-every-limit'] });
    const [listed] = (await api<Array<{ id: string; implausibleResults: number; lastImplausibleAt: string | null }>>(token, 'GET', '/workers')).body;
    expect(listed).toMatchObject({ id: worker.workerId, implausibleResults: 1 });
    expect(listed?.lastImplausibleAt).not.toBeNull();
    worker.close();
  });

  it('requeues after a lost lease and fences the late result of the old attempt', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token);
    const jobId = (await api<JobDetailResponse>(token, 'POST', '/jobs', noopJob)).body.id;
    worker.send({ credit: { credits: 1 } });
    await eventually(() => (worker.instructions().length === 1 ? true : undefined), 'attempt 1');
    worker.send({ ack: { attempt: { jobId, attempt: 1 } } });
    // No heartbeat: the 1 s lease runs out and the job is queued again as attempt 2.
    worker.send({ credit: { credits: 1 } });
    const instructions = await eventually(() => (worker.instructions().length === 2 ? worker.instructions() : undefined), 'attempt 2');
    expect(decodeInstructionPayload(instructions[1]!.payload).attempt).toBe(2);

    const before = (await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body;
    expect(before).toMatchObject({ status: 'DISPATCHED', currentAttempt: 2 });
    expect(before.attempts.map((a) => a.status)).toEqual(['LEASE_EXPIRED', 'DISPATCHED']);
    // The worker still connected is told to stop the fenced attempt.
    const cancels = worker.received.flatMap((f) => (f.frame === 'cancel' && f.cancel ? [f.cancel.attempt] : []));
    expect(cancels).toEqual([{ jobId, attempt: 1 }]);

    worker.send(succeededResult(jobId, 1));
    const [ack] = await eventually(() => (worker.resultAcks().length === 1 ? worker.resultAcks() : undefined), 'stale ack');
    expect(ack!.disposition).toBe('RESULT_DISPOSITION_STALE_ATTEMPT');
    const after = (await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body;
    expect(after).toMatchObject({ status: before.status, currentAttempt: 2, result: null });
    expect(after.events.map((e) => e.type)).toEqual(expect.arrayContaining(['LEASE_EXPIRED', 'REQUEUED', 'STALE_RESULT_REJECTED']));
    worker.close();
  });

  it('renews the attempts a worker reports, and cancels a fenced attempt it still reports after reconnecting', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token, 1);
    const jobId = (await api<JobDetailResponse>(token, 'POST', '/jobs', noopJob)).body.id;
    worker.send({ credit: { credits: 1 } });
    await eventually(() => (worker.instructions().length === 1 ? true : undefined), 'attempt 1');
    worker.send({ ack: { attempt: { jobId, attempt: 1 } } });
    worker.send({ heartbeat: { running: [{ jobId, attempt: 1 }], freeSlots: 0, seq: 1 } });
    const renewal = await eventually(() => worker.received.find((f) => f.frame === 'leaseRenewal' && f.leaseRenewal?.heartbeatSeq === 1)?.leaseRenewal ?? undefined, 'renewal');
    expect(renewal.renewed).toEqual([{ jobId, attempt: 1 }]);

    // The worker drops off (paused, cut off): its lease runs out with no stream to send a Cancel on.
    worker.close();
    await eventually(
      async () => ((await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body.attempts[0]?.status === 'LEASE_EXPIRED' ? true : undefined),
      'the lease to expire',
    );
    const before = worker.received.length;
    await worker.connect({ capacity: 1, running: [{ jobId, attempt: 1 }] });
    const cancel = await eventually(() => worker.received.slice(before).find((f) => f.frame === 'cancel')?.cancel ?? undefined, 'a cancel of the fenced attempt');
    expect(cancel.attempt).toEqual({ jobId, attempt: 1 });
    // Reported again, it is cancelled again, and never renewed.
    worker.send({ heartbeat: { running: [{ jobId, attempt: 1 }], freeSlots: 0, seq: 1 } });
    await eventually(() => (worker.received.slice(before).filter((f) => f.frame === 'cancel').length === 2 ? true : undefined), 'a second cancel');
    const renewals = worker.received.slice(before).flatMap((f) => (f.frame === 'leaseRenewal' && f.leaseRenewal ? [f.leaseRenewal] : []));
    expect(renewals).toEqual([
      { heartbeatSeq: 0, renewed: [] },
      { heartbeatSeq: 1, renewed: [] },
    ]);
    worker.close();
  });

  it('requeues a job a full worker turned away, and leaves a job alone when its worker says it already has the attempt', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token, 1);
    const jobId = (await api<JobDetailResponse>(token, 'POST', '/jobs', noopJob)).body.id;
    worker.send({ credit: { credits: 1 } });
    await eventually(() => (worker.instructions().length === 1 ? true : undefined), 'attempt 1');
    worker.send({ rejected: { attempt: { jobId, attempt: 1 }, failureCode: 'WORKER_AT_CAPACITY' } });
    worker.send({ credit: { credits: 1 } });
    await eventually(() => (worker.instructions().length === 2 ? true : undefined), 'attempt 2');
    expect(decodeInstructionPayload(worker.instructions()[1]!.payload).attempt).toBe(2);
    const requeued = (await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body;
    expect(requeued).toMatchObject({ status: 'DISPATCHED', currentAttempt: 2, failureCode: null });
    expect(requeued.attempts.map((a) => [a.status, a.failureCode])).toEqual([
      ['REJECTED', 'WORKER_AT_CAPACITY'],
      ['DISPATCHED', null],
    ]);

    worker.send({ ack: { attempt: { jobId, attempt: 2 } } });
    worker.send({ rejected: { attempt: { jobId, attempt: 2 }, failureCode: 'ATTEMPT_ALREADY_SEEN' } });
    worker.send(succeededResult(jobId, 2));
    await eventually(() => (worker.resultAcks().length === 1 ? true : undefined), 'result ack');
    const done = (await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body;
    expect(done).toMatchObject({ status: 'SUCCEEDED', currentAttempt: 2 });
    expect(worker.resultAcks()[0]!.disposition).toBe('RESULT_DISPOSITION_RECORDED');
    worker.close();
  });

  it('never sends more instructions than credits', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token);
    worker.send({ credit: { credits: 2 } });
    const jobIds: string[] = [];
    for (let i = 0; i < 3; i += 1) jobIds.push((await api<JobDetailResponse>(token, 'POST', '/jobs', noopJob)).body.id);
    await eventually(() => (worker.instructions().length === 2 ? true : undefined), 'two instructions');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(worker.instructions()).toHaveLength(2);

    const first = decodeInstructionPayload(worker.instructions()[0]!.payload);
    worker.send({ heartbeat: { running: [{ jobId: first.jobId, attempt: first.attempt }], freeSlots: 2, seq: 1 } });
    worker.send(succeededResult(first.jobId, first.attempt));
    worker.send({ credit: { credits: 1 } });
    await eventually(() => (worker.instructions().length === 3 ? true : undefined), 'third instruction');
    const dispatched = worker.instructions().map((i) => decodeInstructionPayload(i.payload).jobId);
    expect(new Set(dispatched)).toEqual(new Set(jobIds));
    worker.close();
  });
});

describe('cancel', () => {
  it('ends a queued job CANCELLED at once, and the dispatcher never hands it out afterwards', async () => {
    const { token } = await newTenant();
    // No credits yet: the job waits in the dispatcher's in-memory queue.
    const worker = await connectedWorker(token);
    const queued = (await api<JobDetailResponse>(token, 'POST', '/jobs', noopJob)).body.id;
    const cancelled = await api<JobResponse>(token, 'POST', `/jobs/${queued}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: queued, status: 'CANCELLED', failureCode: 'CANCELLED', cancelRequestedAt: expect.any(String), finishedAt: expect.any(String) });

    // The cancelled job is older, so it is first in line when credits arrive.
    const next = (await api<JobDetailResponse>(token, 'POST', '/jobs', noopJob)).body.id;
    worker.send({ credit: { credits: 2 } });
    await eventually(() => (worker.instructions().length === 1 ? true : undefined), 'the next job');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(worker.instructions().map((instruction) => decodeInstructionPayload(instruction.payload).jobId)).toEqual([next]);
    const job = (await api<JobDetailResponse>(token, 'GET', `/jobs/${queued}`)).body;
    expect(job).toMatchObject({ status: 'CANCELLED', currentAttempt: 0, attempts: [] });
    expect(job.events.map((event) => event.type)).toEqual(['CREATED', 'QUEUED', 'CANCEL_REQUESTED', 'CANCELLED']);
    worker.close();
  });

  it('tells the worker holding a running attempt to stop it, and records the CANCELLED result', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token, 1);
    const jobId = await runningJob(token, worker);
    let seq = 0;
    const heartbeat = () => {
      seq += 1;
      worker.send({ heartbeat: { running: [{ jobId, attempt: 1 }], freeSlots: 0, seq } });
      return seq;
    };
    const renewed = (heartbeatSeq: number) =>
      eventually(() => worker.received.find((f) => f.frame === 'leaseRenewal' && f.leaseRenewal?.heartbeatSeq === heartbeatSeq)?.leaseRenewal ?? undefined, `renewal ${heartbeatSeq}`);
    // A fresh lease, and no heartbeat after the cancel: any Cancel now comes from the cancel call.
    await renewed(heartbeat());
    const before = worker.received.length;

    const requested = await api<JobResponse>(token, 'POST', `/jobs/${jobId}/cancel`);
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({ id: jobId, status: 'RUNNING', cancelRequestedAt: expect.any(String), finishedAt: null });
    await eventually(() => (cancelsReceived(worker, before).length > 0 ? true : undefined), 'a Cancel');
    expect(cancelsReceived(worker, before)).toEqual([{ jobId, attempt: 1 }]);

    // Asked again: still 202, the first request's time. The lease still renews, so the
    // worker can report inside it, and each heartbeat's answer repeats the cancel.
    const again = await api<JobResponse>(token, 'POST', `/jobs/${jobId}/cancel`);
    expect(again).toMatchObject({ status: 202, body: { status: 'RUNNING', cancelRequestedAt: requested.body.cancelRequestedAt } });
    expect((await renewed(heartbeat())).renewed).toEqual([{ jobId, attempt: 1 }]);
    expect(new Set(cancelsReceived(worker, before).map((ref) => `${ref.jobId}#${ref.attempt}`))).toEqual(new Set([`${jobId}#1`]));

    worker.send(cancelledResult(jobId, 1));
    const [ack] = await eventually(() => (worker.resultAcks().length === 1 ? worker.resultAcks() : undefined), 'result ack');
    expect(ack!.disposition).toBe('RESULT_DISPOSITION_RECORDED');
    const job = (await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body;
    expect(job).toMatchObject({ status: 'CANCELLED', failureCode: 'CANCELLED', result: { outcome: 'JOB_OUTCOME_CANCELLED' } });
    expect(job.attempts).toEqual([expect.objectContaining({ number: 1, status: 'CANCELLED' })]);
    expect(job.events.map((event) => event.type)).toEqual(['CREATED', 'QUEUED', 'DISPATCHED', 'ACKED', 'CANCEL_REQUESTED', 'RESULT_RECORDED']);

    const finished = await api(token, 'POST', `/jobs/${jobId}/cancel`);
    expect(finished).toEqual({ status: 409, body: { statusCode: 409, code: 'JOB_ALREADY_FINISHED', message: `job ${jobId} is already CANCELLED and can no longer be cancelled` } });
    worker.close();
  });

  it('ends the job CANCELLED when the worker is gone and the lease expires, instead of requeueing it', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token, 1);
    const jobId = await runningJob(token, worker);
    worker.close();
    expect((await api<JobResponse>(token, 'POST', `/jobs/${jobId}/cancel`)).status).toBe(202);

    const job = await eventually(async () => {
      const current = (await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body;
      return current.status === 'RUNNING' ? undefined : current;
    }, 'the lease to expire');
    expect(job).toMatchObject({ status: 'CANCELLED', failureCode: 'CANCELLED', currentAttempt: 1 });
    expect(job.attempts).toEqual([expect.objectContaining({ number: 1, status: 'LEASE_EXPIRED' })]);
    expect(job.events.map((event) => event.type)).toEqual(['CREATED', 'QUEUED', 'DISPATCHED', 'ACKED', 'CANCEL_REQUESTED', 'LEASE_EXPIRED', 'CANCELLED']);
    // Not queued again: a worker with a free slot gets nothing.
    const other = await connectedWorker(token, 1);
    other.send({ credit: { credits: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(other.instructions()).toHaveLength(0);
    other.close();
  });

  it('answers 409 naming the status of a job that already finished, and changes nothing', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token, 1);
    const jobId = await runningJob(token, worker);
    worker.send(succeededResult(jobId, 1));
    await eventually(() => (worker.resultAcks().length === 1 ? true : undefined), 'result ack');

    const refused = await api(token, 'POST', `/jobs/${jobId}/cancel`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'JOB_ALREADY_FINISHED', message: expect.stringContaining('SUCCEEDED') });
    expect((await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body).toMatchObject({ status: 'SUCCEEDED', cancelRequestedAt: null });
    worker.close();
  });

  it("answers 404 for another tenant's job, and leaves it queued", async () => {
    const owner = await newTenant();
    const stranger = await newTenant();
    const jobId = (await api<JobDetailResponse>(owner.token, 'POST', '/jobs', noopJob)).body.id;
    const foreign = await api(stranger.token, 'POST', `/jobs/${jobId}/cancel`);
    expect(foreign).toEqual({ status: 404, body: { statusCode: 404, code: 'JOB_NOT_FOUND', message: `job ${jobId} not found` } });
    expect((await api<JobDetailResponse>(owner.token, 'GET', `/jobs/${jobId}`)).body).toMatchObject({ status: 'QUEUED', cancelRequestedAt: null });
  });

  it('is documented in the OpenAPI document with each of its answers', async () => {
    const document = (await (await fetch(`${controlPlane.httpUrl}/api/docs-json`)).json()) as { paths: Record<string, { post?: { responses: object } }> };
    expect(Object.keys(document.paths['/api/v1/jobs/{id}/cancel']?.post?.responses ?? {}).sort()).toEqual(['200', '202', '400', '404', '409']);
  });
});

describe('wire contract loader', () => {
  it('is the one the gateway serves', () => {
    expect(loadAirlockV1().WorkerGateway.service).toHaveProperty('Connect');
  });
});
