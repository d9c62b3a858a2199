import { join } from 'node:path';
import { aliasGlobMatches, isRepositoryAllowed, type EffectivePolicy, type PolicyRules } from '@airlock/policy';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { WorkerIdentityStore } from '../identity/worker-identity.store';
import { CentralPolicyStore, POLICY_BUNDLE_FILE, type AppliedPolicyBundle } from '../policy/central-policy.store';
import type { JobPolicy } from '../policy/job-policy';
import { localEffectivePolicyOf } from '../policy/local-policy';
import { workerBundleVerifier } from '../policy/pinned-keys';
import { WorkerPolicy } from '../policy/worker-policy';
import { workerPools } from '../policy/worker-pools';
import { EXIT_CODES } from './exit-codes';
import type { CliIo } from './worker.cli';

export interface PolicyShowOptions {
  readonly config: string;
  readonly json?: boolean;
}

/** What `policy show --json` prints. */
interface PolicyView {
  readonly local: { readonly labels: readonly string[]; readonly maxFixRetries: number; readonly rules: PolicyRules | null };
  /** The pool the enrollment token named (null: none). */
  readonly enrolledPool: string | null;
  /** The pools whose layers apply here: the config's labels and the enrolled pool. */
  readonly pools: readonly string[];
  readonly bundle: (Omit<AppliedPolicyBundle, 'issuedAtMs' | 'expiresAtMs' | 'layers'> & { issuedAt: string; expiresAt: string; layers: LayerView[] }) | null;
  /** `worker`: for a task without a repository (tenant and pool layers); then one entry per catalog alias. */
  readonly effective: { readonly worker: JobPolicy; readonly repositories: Readonly<Record<string, JobPolicy>> };
}

interface LayerView {
  readonly scope: string;
  readonly key: string | null;
  readonly mode: string;
  readonly policyId: string;
  readonly version: number;
}

/**
 * `policy show`: the local config's policy, the central bundle in force (read back and
 * verified with the pinned keys, as the daemon does at start) with its layers, and the
 * policy in effect — for the worker as a whole and for each repository of the catalog.
 * Readable while the daemon runs: it only reads the bundle file.
 */
export function policyShowCommand(options: PolicyShowOptions, io: CliIo): number {
  const config = loadWorkerConfig(options.config);
  const identity = new WorkerIdentityStore(config.stateDir).load();
  const store = CentralPolicyStore.open(join(config.stateDir, POLICY_BUNDLE_FILE), workerBundleVerifier(config, identity, Date.now, 0));
  const pools = workerPools(config.labels, identity.pool);
  const policy = new WorkerPolicy({ local: localEffectivePolicyOf(config), labels: pools, maxFixRetries: config.policy.maxFixRetries, bundles: store });
  const aliases = config.repositories.map((repo) => repo.alias);
  const bundle = store.current;
  const view: PolicyView = {
    local: { labels: config.labels, maxFixRetries: config.policy.maxFixRetries, rules: config.policy.rules ?? null },
    enrolledPool: identity.pool,
    pools,
    bundle:
      bundle === undefined
        ? null
        : {
            revision: bundle.revision,
            keyId: bundle.keyId,
            issuedAt: new Date(bundle.issuedAtMs).toISOString(),
            expiresAt: new Date(bundle.expiresAtMs).toISOString(),
            layers: bundle.layers.layers.map((layer) => ({ scope: layer.scope, key: layer.key ?? null, mode: layer.mode, policyId: layer.policyId, version: layer.version })),
          },
    effective: { worker: policy.forJob(undefined), repositories: Object.fromEntries(aliases.map((alias) => [alias, policy.forJob(alias)])) },
  };
  io.out(options.json ? `${JSON.stringify(view, null, 2)}\n` : `${describeView(view, aliases).join('\n')}\n`);
  return EXIT_CODES.ok;
}

function describeView(view: PolicyView, aliases: readonly string[]): string[] {
  const lines = ['Local policy (the last word: central policy can only narrow it)'];
  lines.push(`  labels: ${view.local.labels.length > 0 ? view.local.labels.join(', ') : '(none)'}`);
  lines.push(`  maxFixRetries: ${view.local.maxFixRetries}`);
  lines.push(`  rules: ${view.local.rules === null ? '(none: the defaults and the rest of the config)' : JSON.stringify(view.local.rules)}`);
  lines.push('');
  const pools = view.pools.map((pool) => (pool === view.enrolledPool ? `${pool} (enrolled)` : pool));
  lines.push(`Pools (their pool layers apply here): ${pools.length > 0 ? pools.join(', ') : '(none)'}`);
  lines.push('');
  if (view.bundle === null) {
    lines.push('Central policy: no bundle in force (local policy alone)');
  } else {
    const { bundle } = view;
    const expired = Date.parse(bundle.expiresAt) <= Date.now() ? ' (past its expiry: stays in force until a newer one is applied)' : '';
    lines.push(`Central policy: revision ${bundle.revision}, signed by ${bundle.keyId}, issued ${bundle.issuedAt}, expires ${bundle.expiresAt}${expired}`);
    for (const layer of bundle.layers) {
      lines.push(`  ${`${layer.scope}${layer.key === null ? '' : ` ${layer.key}`}`.padEnd(32)} ${layer.mode.padEnd(8)} policy ${layer.policyId} version ${layer.version}`);
    }
  }
  lines.push('', 'Effective policy of the worker (tenant and pool layers)', ...describeJobPolicy(view.effective.worker, aliases));
  for (const [alias, policy] of Object.entries(view.effective.repositories)) {
    lines.push('', `Effective policy for ${alias}`, ...describeJobPolicy(policy, [alias]));
  }
  return lines;
}

function describeJobPolicy(policy: JobPolicy, aliases: readonly string[]): string[] {
  const lines = describeEffective(policy.enforced, aliases);
  if (policy.shadow !== undefined) {
    const enforced = new Set(lines);
    const shadow = describeEffective(policy.shadow, aliases).filter((line) => !enforced.has(line));
    lines.push(`  in shadow (revision ${policy.shadowRevision}, stops nothing):`, ...shadow.map((line) => `  ${line}`));
  }
  return lines;
}

/** One line per rule: what the policy allows, with its level where it has one. */
function describeEffective(policy: EffectivePolicy, aliases: readonly string[]): string[] {
  const list = (values: readonly string[]) => (values.length > 0 ? values.join(', ') : '(none)');
  const allowed = aliases.filter((alias) => isRepositoryAllowed(policy, alias));
  const baseRefs = aliases.map((alias) => {
    const local = policy.baseRefs.local[alias]?.allowed ?? [];
    const central = policy.baseRefs.constraints.filter((constraint) => aliasGlobMatches(constraint.aliasGlob, alias));
    return `${alias}: ${list(local)}${central.length > 0 ? ` (central: ${central.map((c) => `${c.aliasGlob} → ${list(c.allowed)}`).join('; ')})` : ''}`;
  });
  return [
    `  job-kinds: ${list(policy.jobKinds)}`,
    `  repositories: ${list(allowed)}`,
    `  base-refs: ${baseRefs.join('; ') || '(none)'}`,
    `  protected-paths (${policy.protectedPaths.level}): ${list(policy.protectedPaths.paths)}`,
    `  max-files-changed (${policy.maxFilesChanged.level}): ${policy.maxFilesChanged.max}`,
    `  max-lines-changed (${policy.maxLinesChanged.level}): ${policy.maxLinesChanged.max}`,
    `  secrets (${policy.secrets.level}): ${policy.secrets.enabled ? 'scanned' : 'not scanned'}`,
    `  dependency-manifests (${policy.dependencyManifests.level}): ${policy.dependencyManifests.allowChanges ? 'changes allowed' : 'no changes'}`,
    `  denied-packages (${policy.deniedPackages.level}): ${list(policy.deniedPackages.packages)}`,
    `  denied-licenses (${policy.deniedLicenses.level}): ${list(policy.deniedLicenses.licenses)}`,
    `  tests-must-pass (${policy.testsMustPass.level}): ${policy.testsMustPass.required ? 'yes' : 'no'}`,
    `  min-tests-run (${policy.minTestsRun.level}): ${policy.minTestsRun.min}`,
    `  inference-endpoints: ${list(policy.inferenceEndpoints)}`,
    `  inference-token-budget: ${policy.inferenceTokenBudget}`,
    `  inference-time-budget: ${durationText(policy.inferenceTimeBudgetMs)}`,
    `  metadata-level: ${policy.metadata.report}${policy.metadata.buckets ? ', bucketed' : ''}`,
  ];
}

/** Milliseconds as the config writes them: 20m, 90s, 250ms. */
function durationText(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
