import type { InferenceEndpointConfig } from '../../config/worker-config.loader';
import type { EndpointUsage } from './conversation';

const UINT32_MAX = 0xffff_ffff;

const FIGURES = ['requests', 'promptTokens', 'completionTokens'] as const;
type Figure = (typeof FIGURES)[number];

/** Requests and tokens summed over every endpoint. */
export type UsageTotals = Readonly<Record<Figure, number>>;

/**
 * Sums EndpointUsage per endpoint and over all of them. The protocol refuses a result whose
 * totals are not the sums over its endpoints, so the two are kept here together: a figure
 * that would take a total past what a uint32 holds is cut to fit, and one a server reported
 * as a fraction, a negative or no number at all counts as its nearest whole number or 0.
 */
export class EndpointUsageTally {
  private readonly byIndex = new Map<number, Record<Figure, number> & Pick<EndpointUsage, 'endpointIndex' | 'endpoint' | 'model'>>();
  private readonly sums: Record<Figure, number> = { requests: 0, promptTokens: 0, completionTokens: 0 };

  /** Counts one request sent to the endpoint at `endpointIndex` of the configured list. */
  requestSent(endpointIndex: number, endpoint: Pick<InferenceEndpointConfig, 'name' | 'model'>): void {
    this.add({ endpointIndex, endpoint: endpoint.name, model: endpoint.model, requests: 1, promptTokens: 0, completionTokens: 0 });
  }

  /** Counts the tokens of an answer from an endpoint already counted by `requestSent`. */
  answered(endpointIndex: number, endpoint: Pick<InferenceEndpointConfig, 'name' | 'model'>, promptTokens: number, completionTokens: number): void {
    this.add({ endpointIndex, endpoint: endpoint.name, model: endpoint.model, requests: 0, promptTokens, completionTokens });
  }

  add(usage: EndpointUsage): void {
    let entry = this.byIndex.get(usage.endpointIndex);
    if (entry === undefined) {
      entry = { endpointIndex: usage.endpointIndex, endpoint: usage.endpoint, model: usage.model, requests: 0, promptTokens: 0, completionTokens: 0 };
      this.byIndex.set(usage.endpointIndex, entry);
    }
    for (const figure of FIGURES) {
      const added = Math.min(wholeCount(usage[figure]), UINT32_MAX - this.sums[figure]);
      entry[figure] += added;
      this.sums[figure] += added;
    }
  }

  /** Adds every entry of another tally's `entries()` (one answer's, one failure's). */
  addAll(usage: readonly EndpointUsage[]): void {
    for (const entry of usage) this.add(entry);
  }

  get totals(): UsageTotals {
    return { ...this.sums };
  }

  /** One entry per endpoint counted, in configured order. */
  entries(): EndpointUsage[] {
    return [...this.byIndex.values()].sort((a, b) => a.endpointIndex - b.endpointIndex).map((entry) => ({ ...entry }));
  }
}

function wholeCount(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
