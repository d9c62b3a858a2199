/** Tuning of an EndpointCircuitBreaker. */
export interface CircuitBreakerSettings {
  /** Consecutive failed calls that open an endpoint's circuit. */
  readonly failureThreshold: number;
  /** How long an open circuit skips the endpoint before one probe call is let through. */
  readonly cooldownMs: number;
}

interface EndpointState {
  failures: number;
  openUntilMs: number | undefined;
  probing: boolean;
}

/**
 * A circuit breaker per inference endpoint: after `failureThreshold` calls in a row found an
 * endpoint unavailable, later jobs skip it for `cooldownMs` instead of each paying its
 * timeouts and retries first; then one call probes it (half-open) and its outcome closes the
 * circuit or opens it again. Only unavailability counts: a request the endpoint rejected
 * (4xx) says nothing about its health.
 */
export class EndpointCircuitBreaker {
  private readonly states = new Map<string, EndpointState>();

  constructor(
    private readonly settings: CircuitBreakerSettings,
    private readonly now: () => number,
  ) {
    if (!(settings.failureThreshold >= 1) || !(settings.cooldownMs >= 0)) throw new RangeError('EndpointCircuitBreaker: expected failureThreshold ≥ 1 and cooldownMs ≥ 0');
  }

  /** Whether a call may go to the endpoint now (closed, or the one probe of a half-open circuit). */
  allows(endpoint: string): boolean {
    const state = this.states.get(endpoint);
    if (state?.openUntilMs === undefined) return true;
    if (this.now() < state.openUntilMs || state.probing) return false;
    state.probing = true;
    return true;
  }

  /** The endpoint answered: its circuit closes. */
  succeeded(endpoint: string): void {
    this.states.delete(endpoint);
  }

  /** The endpoint was unavailable for a whole call (after its retries). */
  failed(endpoint: string): void {
    const state = this.states.get(endpoint) ?? { failures: 0, openUntilMs: undefined, probing: false };
    state.failures += 1;
    if (state.probing || state.failures >= this.settings.failureThreshold) {
      state.openUntilMs = this.now() + this.settings.cooldownMs;
      state.probing = false;
    }
    this.states.set(endpoint, state);
  }

  /** Whether the endpoint's circuit is open now (for logs and health). */
  isOpen(endpoint: string): boolean {
    const until = this.states.get(endpoint)?.openUntilMs;
    return until !== undefined && this.now() < until;
  }
}
