/**
 * `npm run bench:dispatch`: dispatch latency of no-op jobs, job created through the REST
 * API → instruction signed, sent, verified by the worker → ack recorded, next to the floor:
 * a bare @grpc/grpc-js bidirectional ping-pong measured in the same run on this machine.
 *
 * Flags: --jobs N (default 2000), --rate R jobs per second (default 20), --pings N
 * (default 5000). Uses a throwaway real PostgreSQL cluster (as production would), one
 * worker with 8 slots that allows noop jobs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { createThrowawayCertificates, startLocalStack, type JobView } from '@airlock/local-stack';
import { createDatabase, startPostgresCluster } from '@airlock/testing';
import { summarise, type Summary } from './bench-summary';

const flag = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} expects a positive number`);
  return value;
};
const JOBS = flag('jobs', 2000);
const RATE = flag('rate', 20);
const PINGS = flag('pings', 5000);

/** PEM material for the TLS floor; absent for the plain-text floor. */
interface FloorTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * The floor: a raw bidirectional stream echoing small frames on loopback, in plain text or
 * over TLS (the worker gateway runs TLS, so that is the fair comparison).
 */
async function grpcPingPong(pings: number, tls?: FloorTls): Promise<number[]> {
  const definition: grpc.ServiceDefinition = {
    Ping: {
      path: '/bench.Echo/Ping',
      requestStream: true,
      responseStream: true,
      requestSerialize: (value: Buffer) => value,
      requestDeserialize: (value: Buffer) => value,
      responseSerialize: (value: Buffer) => value,
      responseDeserialize: (value: Buffer) => value,
    },
  };
  const server = new grpc.Server();
  server.addService(definition, {
    Ping: (stream: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      stream.on('data', (frame: Buffer) => stream.write(frame));
      stream.on('end', () => stream.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false) : grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  const Client = grpc.makeGenericClientConstructor(definition, 'Echo');
  const client = new Client(`localhost:${port}`, tls ? grpc.credentials.createSsl(tls.ca) : grpc.credentials.createInsecure());
  const stream = (client as unknown as { Ping(): grpc.ClientDuplexStream<Buffer, Buffer> }).Ping();
  const samples: number[] = [];
  const payload = randomBytes(200);
  for (let i = 0; i < pings + 200; i += 1) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      stream.once('data', () => resolve());
      stream.write(payload);
    });
    if (i >= 200) samples.push(performance.now() - started); // the first 200 warm up the JIT and the connection
  }
  stream.end();
  client.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  return samples;
}

function row(label: string, s: Summary): string {
  const cell = (v: number): string => v.toFixed(2).padStart(9);
  return `| ${label.padEnd(44)} | ${String(s.n).padStart(6)} | ${cell(s.p50)} | ${cell(s.p90)} | ${cell(s.p99)} | ${cell(s.max)} |`;
}

async function main(): Promise<void> {
  console.log(`bench:dispatch — ${JOBS} noop jobs at ${RATE}/s; floor: ${PINGS} gRPC ping-pongs (Node ${process.version})`);
  const baseDir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  const certificates = await createThrowawayCertificates(join(baseDir, 'floor-tls'));
  const floor = summarise(await grpcPingPong(PINGS));
  const floorTls = summarise(
    await grpcPingPong(PINGS, { ca: readFileSync(certificates.caFile), cert: readFileSync(certificates.certFile), key: readFileSync(certificates.keyFile) }),
  );

  const cluster = await startPostgresCluster();
  const stack = await startLocalStack({
    baseDir,
    canary: 'bench',
    databaseUrl: await createDatabase(cluster.url, 'bench_dispatch'),
    workerConcurrency: 8,
    allowNoop: true,
    controlPlaneEnv: { LOG_LEVEL: 'warn' },
  });
  try {
    const ids: string[] = [];
    const interval = 1000 / RATE;
    const started = performance.now();
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < JOBS; i += 1) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(stack.api.createNoopJob().then((job) => void ids.push(job.id)));
      if (i % 500 === 499) process.stdout.write(`  created ${i + 1}/${JOBS}\n`);
    }
    await Promise.all(inFlight);

    const jobs: JobView[] = [];
    for (const id of ids) jobs.push(await stack.api.waitForTerminalJob(id, 120_000));
    const ms = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : NaN);
    const createdToAcked: number[] = [];
    const createdToDispatched: number[] = [];
    const dispatchedToAcked: number[] = [];
    for (const job of jobs) {
      const attempt = job.attempts[0];
      if (!attempt?.ackedAt || !attempt.dispatchedAt) throw new Error(`job ${job.id} has no ack recorded (status ${job.status})`);
      createdToAcked.push(ms(attempt.ackedAt) - ms(job.createdAt));
      createdToDispatched.push(ms(attempt.dispatchedAt) - ms(job.createdAt));
      dispatchedToAcked.push(ms(attempt.ackedAt) - ms(attempt.dispatchedAt));
    }
    const total = summarise(createdToAcked);
    console.log('\n| measure (milliseconds)                       |      n |       p50 |       p90 |       p99 |       max |');
    console.log('|----------------------------------------------|--------|-----------|-----------|-----------|-----------|');
    console.log(row('floor: grpc-js bidi ping-pong, plain text', floor));
    console.log(row('floor: grpc-js bidi ping-pong, TLS', floorTls));
    console.log(row('airlock: created → ack recorded', total));
    console.log(row('  of which created → dispatched', summarise(createdToDispatched)));
    console.log(row('  of which dispatched → ack recorded', summarise(dispatchedToAcked)));
    const firstCreated = Math.min(...jobs.map((job) => ms(job.createdAt)));
    const lastFinished = Math.max(...jobs.map((job) => ms(job.finishedAt)));
    console.log(`\nthroughput: ${jobs.length} jobs created → finished in ${((lastFinished - firstCreated) / 1000).toFixed(1)} s (${((jobs.length * 1000) / (lastFinished - firstCreated)).toFixed(1)} jobs/s; offered ${RATE}/s)`);
    console.log(`ratio airlock/TLS floor: p50 ${(total.p50 / floorTls.p50).toFixed(1)}×, p99 ${(total.p99 / floorTls.p99).toFixed(1)}× (the worker gateway runs TLS)`);
    console.log('(control-plane timestamps have millisecond resolution; the floor is measured with performance.now())');
  } finally {
    await stack.stop();
    await cluster.stop();
    rmSync(baseDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:dispatch failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
