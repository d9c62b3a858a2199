import { RULE_IDS_TO_WIRE, mergePolicy, selectLayers, type BundleLayers, type EffectivePolicy, type RuleId } from '@airlock/policy';
import type { PolicyRule } from '@airlock/protocol';
import type { CentralPolicyStore } from './central-policy.store';
import type { JobPolicy } from './job-policy';

/** Everything the worker's policy is made of. */
export interface WorkerPolicyDependencies {
  /** The local EffectivePolicy, from the worker's config. */
  readonly local: EffectivePolicy;
  /** The worker's pools: the pool layers with these keys apply to it. */
  readonly labels: readonly string[];
  /** `policy.maxFixRetries` from the config. */
  readonly maxFixRetries: number;
  /** The central bundle in force, if any. */
  readonly bundles: Pick<CentralPolicyStore, 'current'>;
}

/**
 * The worker's local policy merged with the central bundle in force, rule by rule, the
 * stricter winning. With no bundle, the local policy alone.
 */
export class WorkerPolicy {
  constructor(private readonly deps: WorkerPolicyDependencies) {}

  /** The local policy: what applies with no bundle, and what no bundle can widen. */
  get local(): EffectivePolicy {
    return this.deps.local;
  }

  /**
   * The policy a job on `repoAlias` (undefined for a task without a repository) runs under
   * if it is admitted now: the bundle's tenant layer, the pool layers of this worker's
   * labels and the repository layer of the alias, merged with local policy; and the same
   * with the bundle's shadow layers, when some apply.
   */
  forJob(repoAlias: string | undefined): JobPolicy {
    const { local, labels, maxFixRetries, bundles } = this.deps;
    const bundle = bundles.current;
    if (bundle === undefined) return { enforced: local, revision: 0, shadowRevision: 0, maxFixRetries };
    const selection = selectLayers(bundle.layers, repoAlias === undefined ? { labels } : { labels, repoAlias });
    const enforced = mergePolicy(local, selection.enforce).effective;
    if (selection.shadow === undefined) return { enforced, revision: bundle.revision, shadowRevision: 0, maxFixRetries };
    const shadow = mergePolicy(local, selection.shadow).effective;
    return { enforced, shadow, revision: bundle.revision, shadowRevision: bundle.revision, maxFixRetries };
  }

  /**
   * The rules local policy keeps stricter than the enforce layers of `layers` that apply to
   * this worker as a whole: the tenant layer and its pools' layers. Repository layers apply
   * per job (the alias is known only when an instruction names it), so they are merged at
   * admission and do not count here.
   */
  narrowedBy(layers: BundleLayers): RuleId[] {
    return mergePolicy(this.deps.local, selectLayers(layers, { labels: this.deps.labels }).enforce).narrowed;
  }
}

/** A PolicyRule as frames carry it (the enum's name). */
export type WirePolicyRule = (typeof PolicyRule)[keyof typeof PolicyRule];

/** Rule ids as the wire names them. */
export function wireRulesOf(ids: readonly RuleId[]): WirePolicyRule[] {
  return ids.map((id) => RULE_IDS_TO_WIRE[id]);
}
