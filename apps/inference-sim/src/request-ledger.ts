/** What `GET /v1/sim/requests` returns: counts only, never prompt text. */
export interface RequestLedgerSnapshot {
  /** Every `POST /v1/chat/completions` received, whatever its outcome (400, 404, 422 included). */
  count: number;
  /** Requests that matched each scenario, injected failures included. */
  byScenario: Record<string, number>;
}

/**
 * Counts chat completion requests so tests can assert that a worker did, or did not, call
 * inference, and so `fail_times` knows how many times a scenario has already been hit.
 */
export class RequestLedger {
  private count = 0;
  private readonly byScenario = new Map<string, number>();

  /** Records one chat completion request, before it is validated. */
  recordRequest(): void {
    this.count += 1;
  }

  /** Records a request matching `scenarioName` and returns its 1-based ordinal for that scenario. */
  recordMatch(scenarioName: string): number {
    const ordinal = (this.byScenario.get(scenarioName) ?? 0) + 1;
    this.byScenario.set(scenarioName, ordinal);
    return ordinal;
  }

  /** A copy of the counts, safe to serialise. */
  snapshot(): RequestLedgerSnapshot {
    return { count: this.count, byScenario: Object.fromEntries(this.byScenario) };
  }
}
