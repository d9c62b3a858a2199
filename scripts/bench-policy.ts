/**
 * `npm run bench:policy`: how long a central policy publish takes to be in force on every
 * connected worker — publish committed → each worker's acknowledgement recorded (the
 * control plane's own timestamps: the layer's publishedAt, each worker's appliedAt) — next
 * to a baseline measured in the same run on the same stack: a noop job created → its ack
 * recorded, the other round trip that signs a payload, sends it down a worker's stream, has
 * it verified and answered, and writes the answer to PostgreSQL.
 *
 * Flags: --workers N real worker processes (default 4), --publishes N (default 40),
 * --noops N (default 100). Uses a throwaway real PostgreSQL cluster, as production would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocalStack } from '@airlock/local-stack';
import { createDatabase, startPostgresCluster } from '@airlock/testing';
import { summarise, type Summary } from './bench-summary';

const flag = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} expects a positive integer`);
  return value;
};
const WORKERS = flag('workers', 4);
const PUBLISHES = flag('publishes', 40);
const NOOPS = flag('noops', 100);
const ROLLOUT_TIMEOUT_MS = 30_000;

function row(label: string, s: Summary): string {
  const cell = (v: number): string => v.toFixed(0).padStart(7);
  return `| ${label.padEnd(52)} | ${String(s.n).padStart(5)} | ${cell(s.p50)} | ${cell(s.p90)} | ${cell(s.p99)} | ${cell(s.max)} |`;
}

interface RolloutView {
  workers: Array<{ workerId: string; appliedRevision: number; appliedAt: string | null }>;
}
interface PublishView {
  revision: number;
  layer: { publishedAt: string };
}

async function main(): Promise<void> {
  console.log(`bench:policy — ${PUBLISHES} publishes to ${WORKERS} connected workers; baseline: ${NOOPS} noop jobs (Node ${process.version})`);
  const baseDir = mkdtempSync(join(tmpdir(), 'airlock-bench-policy-'));
  const cluster = await startPostgresCluster();
  const stack = await startLocalStack({
    baseDir,
    canary: 'bench',
    databaseUrl: await createDatabase(cluster.url, 'bench_policy'),
    allowNoop: true,
    controlPlaneEnv: { LOG_LEVEL: 'warn' },
  });
  try {
    for (let index = 1; index < WORKERS; index += 1) await stack.addWorker(`worker-${index + 1}`);
    const ms = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : NaN);

    // Baseline: the same stack's dispatch round trip, one job at a time.
    const noopCreatedToAcked: number[] = [];
    for (let index = 0; index < NOOPS; index += 1) {
      const job = await stack.api.waitForTerminalJob((await stack.api.createNoopJob()).id, 30_000);
      const attempt = job.attempts[0];
      if (!attempt?.ackedAt) throw new Error(`noop job ${job.id} has no ack recorded (status ${job.status})`);
      noopCreatedToAcked.push(ms(attempt.ackedAt) - ms(job.createdAt));
    }

    const created = await stack.api.request<{ id: string }>('POST', '/policies', { name: 'bench', document: { schemaVersion: 1, rules: { 'max-files-changed': { max: 1 } } } });
    if (created.status !== 201) throw new Error(`POST /policies answered ${created.status}: ${JSON.stringify(created.body)}`);
    const perWorker: number[] = [];
    const lastWorker: number[] = [];
    const publishCall: number[] = [];
    for (let index = 0; index < PUBLISHES; index += 1) {
      // A new version each time, as an admin tightening a rule would make.
      let version = 1;
      if (index > 0) {
        const next = await stack.api.request<{ number: number }>('POST', `/policies/${created.body.id}/versions`, { document: { schemaVersion: 1, rules: { 'max-files-changed': { max: index + 1 } } } });
        if (next.status !== 201) throw new Error(`POST versions answered ${next.status}: ${JSON.stringify(next.body)}`);
        version = next.body.number;
      }
      const called = performance.now();
      const published = await stack.api.request<PublishView>('POST', `/policies/${created.body.id}/versions/${version}/publish`, { scope: 'tenant', mode: 'enforce' });
      publishCall.push(performance.now() - called);
      if (published.status !== 200) throw new Error(`publish answered ${published.status}: ${JSON.stringify(published.body)}`);
      const { revision } = published.body;
      const deadline = Date.now() + ROLLOUT_TIMEOUT_MS;
      let view: RolloutView;
      for (;;) {
        view = (await stack.api.request<RolloutView>('GET', '/policy/rollout')).body;
        if (view.workers.length === WORKERS && view.workers.every((worker) => worker.appliedRevision >= revision)) break;
        if (Date.now() > deadline) throw new Error(`revision ${revision} not applied by every worker after ${ROLLOUT_TIMEOUT_MS} ms: ${JSON.stringify(view.workers)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const publishedAt = ms(published.body.layer.publishedAt);
      const delays = view.workers.map((worker) => ms(worker.appliedAt) - publishedAt);
      perWorker.push(...delays);
      lastWorker.push(Math.max(...delays));
    }

    const lastSummary = summarise(lastWorker);
    console.log('\n| measure (milliseconds)                               |     n |     p50 |     p90 |     p99 |     max |');
    console.log('|------------------------------------------------------|-------|---------|---------|---------|---------|');
    console.log(row('baseline: noop job created → ack recorded', summarise(noopCreatedToAcked)));
    console.log(row('publish committed → one worker\'s ack recorded', summarise(perWorker)));
    console.log(row(`publish committed → last of ${WORKERS} workers' ack recorded`, lastSummary));
    console.log(row('the publish call itself (HTTP round trip)', summarise(publishCall)));
    console.log(`\nevery worker had applied each revision within ${lastSummary.max.toFixed(0)} ms of its publish (goal: under 1000 ms while connected)`);
    console.log('(control-plane timestamps have millisecond resolution)');
  } finally {
    await stack.stop();
    await cluster.stop();
    rmSync(baseDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:policy failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
