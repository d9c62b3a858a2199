import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ControlFrameVerifier, FileNonceStore, InstructionVerifier } from '@airlock/envelope';
import { localEffectivePolicyDigest } from '@airlock/policy';
import { buildInfo } from '@airlock/protocol';
import { EgressAuditLog } from '../audit/egress-audit.log';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { readinessChecks } from '../daemon/readiness.checks';
import { WorkerDaemon } from '../daemon/worker.daemon';
import { OutboundGate } from '../gateway/outbound.gate';
import { createWorkerGatewayClient } from '../gateway/worker-gateway.client-factory';
import { GitRunner } from '../git/git-runner';
import { HealthServer } from '../health/health.server';
import { WorkerIdentityStore } from '../identity/worker-identity.store';
import { AttemptLedger } from '../instructions/attempt-ledger';
import { InstructionGatekeeper } from '../instructions/instruction.gatekeeper';
import { InferenceClient } from '../jobs/inference/inference.client';
import { JobRunner } from '../jobs/job.runner';
import { lazyJobPipelines } from '../jobs/lazy-job-pipelines';
import { createForgeClient } from '../delivery/forge/forge.factory';
import { DeliveryWatcher } from '../delivery/watch/delivery.watcher';
import { DeliveryWatchStore } from '../delivery/watch/delivery-watch.store';
import { RevertFinder } from '../delivery/watch/revert-finder';
import { systemClock } from '../daemon/daemon.clock';
import { JobRecordStore } from '../jobs/record/job-record.store';
import { SANDBOX_DISABLED_WARNING, TestSandbox } from '../jobs/sandbox/test-sandbox';
import { DependencyCache } from '../jobs/setup/dependency-cache';
import { WorkspaceManager } from '../jobs/workspace/workspace.manager';
import { JsonLogger } from '../logging/json-logger';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { ResultOutbox } from '../outbox/result-outbox';
import { CentralPolicyStore, POLICY_BUNDLE_FILE } from '../policy/central-policy.store';
import { localEffectivePolicyOf } from '../policy/local-policy';
import { pinnedSigningKeys, workerBundleVerifier } from '../policy/pinned-keys';
import { PolicyBundleHandler } from '../policy/policy-bundle.handler';
import { WorkerPolicy } from '../policy/worker-policy';
import { workerPools } from '../policy/worker-pools';
import { EGRESS_AUDIT_FILE } from './audit-verify.command';
import { daemonExitCode } from './exit-codes';
import { workerVersion } from './worker-version';

/** Tolerated clock difference with the control plane when checking an instruction's or a bundle's validity window. */
const MAX_CLOCK_SKEW_MS = 30_000;
/** Longest validity window an instruction may claim. */
const MAX_VALIDITY_WINDOW_MS = 60 * 60_000;

/**
 * The composition root of the daemon: builds every collaborator once, in dependency order,
 * starts the health listener and the daemon, and wires SIGTERM/SIGINT to its two-step
 * shutdown. Resolves with the exit code.
 */
export async function runCommand(options: { readonly config: string }): Promise<number> {
  const config = loadWorkerConfig(options.config);
  const identityStore = new WorkerIdentityStore(config.stateDir);
  const identity = identityStore.load();
  const macKey = identityStore.loadMacKey();
  const logger = new JsonLogger();
  // First: what is running, so an operator reading the log knows which build wrote it.
  const { version, commit, builtAt } = buildInfo();
  logger.info('build-info', { version, commit, builtAt });
  // One registry for this daemon, served on the health listener (GET /metrics), never sent upstream.
  const metrics = new WorkerMetrics({ defaultMetrics: true });
  mkdirSync(join(config.stateDir, 'job-logs'), { recursive: true, mode: 0o700 });

  const audit = EgressAuditLog.open(join(config.stateDir, EGRESS_AUDIT_FILE), {
    maxSegmentBytes: config.audit.maxSegmentBytes,
    maxSegments: config.audit.maxSegments,
    logger,
  });
  const nonceStore = FileNonceStore.open(join(config.stateDir, 'nonces.jsonl'), Date.now);
  const attempts = AttemptLedger.open(join(config.stateDir, 'attempts.jsonl'));
  const verifier = new InstructionVerifier({
    trustedKeys: pinnedSigningKeys(config),
    workerId: identity.workerId,
    tenantId: identity.tenantId,
    clock: Date.now,
    maxClockSkewMs: MAX_CLOCK_SKEW_MS,
    maxValidityWindowMs: MAX_VALIDITY_WINDOW_MS,
    nonceStore,
  });
  // Bundles are trusted by the same pinned keys as instructions.
  const bundleVerifier = workerBundleVerifier(config, identity, Date.now, MAX_CLOCK_SKEW_MS);
  // Before anything runs: a persisted bundle that no longer verifies stops the start (PolicyBundleFileInvalidError).
  const bundles = CentralPolicyStore.open(join(config.stateDir, POLICY_BUNDLE_FILE), bundleVerifier);
  const localPolicy = localEffectivePolicyOf(config);
  // The config's labels and the enrolled pool: the pool layers applied here and the pools the Hello names are the same.
  const pools = workerPools(config.labels, identity.pool);
  const policy = new WorkerPolicy({ local: localPolicy, labels: pools, maxFixRetries: config.policy.maxFixRetries, bundles });
  if (bundles.current !== undefined) logger.info('policy-bundle-loaded', { revision: bundles.revision, expiresAt: new Date(bundles.current.expiresAtMs).toISOString() });
  const sandbox = TestSandbox.fromConfig(config);
  if (sandbox.mode === 'none') {
    logger.warn('sandbox-disabled', { message: SANDBOX_DISABLED_WARNING });
    process.stderr.write(`\n${'!'.repeat(78)}\n${SANDBOX_DISABLED_WARNING}\n${'!'.repeat(78)}\n\n`);
  }
  const git = new GitRunner(config.host);
  const workspace = new WorkspaceManager(config.workspaceDir, git, logger);
  await workspace.removeStale();
  const records = new JobRecordStore(config.stateDir, config.records, logger);
  // This daemon has just started, so every record still `running` was left by one that crashed.
  records.markInterrupted();
  records.prune();
  const dependencyCache = new DependencyCache(join(config.workspaceDir, 'dependency-cache'), config.setup.cacheMaxBytes, config.host);
  // Before any job: what a crashed worker left half-written in the cache's staging goes.
  await dependencyCache.removeStale(logger);
  const inference = new InferenceClient(config.inference.endpoints, logger);
  const deliveryWatches = new DeliveryWatchStore(join(config.stateDir, 'delivery-watch'), logger);
  const client = createWorkerGatewayClient(config.controlPlane, identityStore.loadClientCertificate());
  const daemon = new WorkerDaemon({
    config,
    identity,
    frameVerifier: new ControlFrameVerifier(pinnedSigningKeys(config)),
    version: workerVersion(),
    policyDigest: localEffectivePolicyDigest(localPolicy, config.inference.allowedHosts),
    labels: pools,
    policyBundles: new PolicyBundleHandler({ verifier: bundleVerifier, store: bundles, policy, logger }),
    connect: () => client.Connect(),
    gate: new OutboundGate(audit, logger, metrics),
    outbox: new ResultOutbox(join(config.stateDir, 'outbox')),
    gatekeeper: new InstructionGatekeeper(verifier, policy),
    attempts,
    // The pipelines' modules are loaded on the first job: an idle worker does not hold them.
    jobs: new JobRunner(
      config.repositories,
      lazyJobPipelines(async () =>
        (await import('./job-pipelines')).createJobPipelines({ config, git, workspace, inference, sandbox, macKey, logger, records, dependencyCache, deliveryWatches, metrics }),
      ),
    ),
    readiness: () => readinessChecks(config, inference, sandbox),
    deliveryWatcher: new DeliveryWatcher({
      store: deliveryWatches,
      repositories: config.repositories,
      // A fresh client per repository and cycle: its retry budget is that cycle's, and it reads the token anew.
      forgeClientFor: (forge) => createForgeClient(forge, config.delivery),
      reverts: new RevertFinder(workspace),
      // The level in force when an outcome is sent: local policy, lowered by the central bundle's layers for the repository.
      metadataFor: (repoAlias) => policy.forJob(repoAlias).enforced.metadata,
      options: config.delivery.watch,
      clock: systemClock,
      logger,
    }),
    logger,
    metrics,
  });
  const health = new HealthServer(() => daemon.health(), metrics);
  const healthUrl = await health.listen(config.health.host, config.health.port);
  logger.info('health-listening', { url: healthUrl });
  const onSignal = (signal: NodeJS.Signals) => daemon.requestShutdown(signal);
  // Whatever escapes every handler still takes the daemon's fatal path: jobs aborted, results kept, exit 1.
  const onUncaught = (error: unknown) => daemon.fail(error);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  try {
    return daemonExitCode(await daemon.run());
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    await health.close();
    client.close();
    // Every job has ended by now: the inference connection pools, proxied or not, can go.
    await inference.close();
    nonceStore.close();
    attempts.close();
    audit.close();
  }
}
