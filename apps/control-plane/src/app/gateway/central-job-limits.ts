import type { Logger } from '@nestjs/common';
import type { PolicyRepository, RevisionLayer } from '@airlock/data-access';
import {
  LIMIT_CEILINGS,
  localEffectivePolicy,
  mergePolicy,
  parsePolicyDocument,
  selectLayers,
  type BundleLayers,
  type LayerTarget,
  type PolicyDocument,
  type PolicyRules,
  type RuleId,
} from '@airlock/policy';
import { workerBundleLayers, workerPools } from '../policies/policy-bundle.layers';
import type { JobLimits, JobLimitsLookup } from './result-plausibility';

/**
 * How many (tenant, revision) pairs keep their layers in memory. Results mostly name their
 * tenant's current revision, so this covers every tenant's few latest; an entry holds only
 * the limit rules of each layer (a few dozen bytes each), not its document.
 */
export const CACHED_REVISIONS = 1_000;

/** The rules JobLimits are made of: all a cached document keeps. */
const LIMIT_RULES = ['max-files-changed', 'max-lines-changed', 'inference-token-budget'] as const satisfies readonly RuleId[];

/**
 * A local policy as loose as a worker's config may be: every limit at LIMIT_CEILINGS (the
 * config schema's maxima). Merged with central documents by the merge every worker runs on
 * its own local policy, it gives the central part of the limits: any worker's own are at
 * most these, so its effective limits are at most the result. Only its limits are read.
 */
const LOOSEST_LOCAL_POLICY = localEffectivePolicy({
  allowedTaskKinds: [],
  repoAliases: [],
  baseRefRules: new Map(),
  endpointNames: [],
  maxChangedFiles: LIMIT_CEILINGS.filesChanged,
  maxChangedLines: LIMIT_CEILINGS.linesChanged,
  maxJobTokens: LIMIT_CEILINGS.jobTokens,
  agentTimeoutMs: Number.MAX_SAFE_INTEGER,
});

/** A revision's layer with its document read by libs/policy's schema and cut to LIMIT_RULES. */
type LimitLayer = Omit<RevisionLayer, 'document'> & { readonly document: PolicyDocument };

/**
 * The limits of the central policy a result names, for the worker that sent it: the layers
 * of that revision (read once per tenant and revision, then kept: a revision never changes),
 * cut to the worker's bundle as PolicyDistributor cuts it, then selected and merged as the
 * worker does for a job (`selectLayers`, `mergePolicy`). Only enforce layers bind; shadow
 * layers stop nothing on a worker, so they bound nothing here.
 *
 * The worker's pools are those of its stream (Hello labels and enrolled pool), the ones its
 * bundle was cut for and its jobs selected by. Labels come from the worker's config, so they
 * change only with a restart; a result re-sent from the outbox after a restart that added a
 * pool is judged with that pool's layers too (nothing records the pools an attempt ran with).
 */
export class CentralJobLimits {
  /** By `tenantId#revision`, least recently used first. A pending read is shared. */
  private readonly revisions = new Map<string, Promise<readonly LimitLayer[] | null>>();

  constructor(
    private readonly policies: Pick<PolicyRepository, 'revisionLayers'>,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly capacity = CACHED_REVISIONS,
  ) {}

  /**
   * The limits of `revision` of the tenant's central policy for this worker's jobs, by
   * repository; undefined for revision 0 (no central policy) and for a revision the tenant
   * never reached, which the ceilings judge alone. At most one query, none when cached.
   */
  async forWorker(tenantId: string, revision: number, worker: { readonly labels: readonly string[]; readonly pool: string | null }): Promise<JobLimitsLookup | undefined> {
    if (revision === 0) return undefined;
    const layers = await this.layersAt(tenantId, revision);
    if (layers === null) return undefined;
    const bundle = workerBundleLayers(layers, worker);
    const labels = workerPools(worker);
    return (repoAlias) => mergedLimits(bundle, repoAlias === null ? { labels } : { labels, repoAlias });
  }

  private layersAt(tenantId: string, revision: number): Promise<readonly LimitLayer[] | null> {
    const key = `${tenantId}#${revision}`;
    const cached = this.revisions.get(key);
    if (cached) {
      // Most recently used last.
      this.revisions.delete(key);
      this.revisions.set(key, cached);
      return cached;
    }
    const reading = this.read(tenantId, revision);
    this.revisions.set(key, reading);
    if (this.revisions.size > this.capacity) {
      const oldest = this.revisions.keys().next();
      if (!oldest.done) this.revisions.delete(oldest.value);
    }
    // Only a revision found is final: one not reached yet may be published later, and a failed read may succeed next time.
    reading.then(
      (layers) => {
        if (layers === null) this.forget(key, reading);
      },
      () => this.forget(key, reading),
    );
    return reading;
  }

  private async read(tenantId: string, revision: number): Promise<readonly LimitLayer[] | null> {
    const layers = await this.policies.revisionLayers(tenantId, revision);
    if (layers === null) return null;
    const read: LimitLayer[] = [];
    for (const layer of layers) {
      const parsed = parsePolicyDocument(layer.document);
      if (!parsed.ok) {
        // Every stored version passed this schema; a worker would refuse a bundle that did not.
        this.logger.warn({ event: 'policy_revision_unreadable', tenantId, revision, policyId: layer.policyId, version: layer.version });
        return null;
      }
      read.push({ ...layer, document: limitRulesOf(parsed.value) });
    }
    return read;
  }

  private forget(key: string, reading: Promise<readonly LimitLayer[] | null>): void {
    if (this.revisions.get(key) === reading) this.revisions.delete(key);
  }
}

/** The document with only the rules JobLimits read: the merge treats each rule on its own, so the others change nothing here. */
function limitRulesOf(document: PolicyDocument): PolicyDocument {
  const rules: PolicyRules = {};
  for (const id of LIMIT_RULES) {
    if (document.rules[id] !== undefined) Object.assign(rules, { [id]: document.rules[id] });
  }
  return { schemaVersion: 1, rules };
}

/** The enforce layers of the bundle that apply to the job, merged into the loosest local policy. */
function mergedLimits(bundle: BundleLayers, target: LayerTarget): JobLimits {
  const { effective } = mergePolicy(LOOSEST_LOCAL_POLICY, selectLayers(bundle, target).enforce);
  return { filesChanged: effective.maxFilesChanged.max, linesChanged: effective.maxLinesChanged.max, jobTokens: effective.inferenceTokenBudget };
}
