import { EndpointCircuitBreaker } from './endpoint-circuit.breaker';

describe('EndpointCircuitBreaker', () => {
  let nowMs: number;
  let breaker: EndpointCircuitBreaker;

  beforeEach(() => {
    nowMs = 0;
    breaker = new EndpointCircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000 }, () => nowMs);
  });

  it('opens after the threshold of failures in a row, and skips the endpoint for the cooldown', () => {
    breaker.failed('a');
    expect(breaker.allows('a')).toBe(true);
    breaker.failed('a');
    expect(breaker.isOpen('a')).toBe(true);
    expect(breaker.allows('a')).toBe(false);
    nowMs = 999;
    expect(breaker.allows('a')).toBe(false);
    expect(breaker.allows('b')).toBe(true);
  });

  it('lets one probe through after the cooldown: a success closes it, a failure opens it again at once', () => {
    breaker.failed('a');
    breaker.failed('a');
    nowMs = 1_000;
    expect(breaker.allows('a')).toBe(true);
    expect(breaker.allows('a')).toBe(false); // one probe at a time
    breaker.failed('a');
    expect(breaker.allows('a')).toBe(false);
    nowMs = 2_000;
    expect(breaker.allows('a')).toBe(true);
    breaker.succeeded('a');
    expect(breaker.isOpen('a')).toBe(false);
    expect(breaker.allows('a')).toBe(true);
    breaker.failed('a');
    expect(breaker.allows('a')).toBe(true); // the count starts again after a success
  });

  it('refuses settings under which it could never let a call through or never open', () => {
    expect(() => new EndpointCircuitBreaker({ failureThreshold: 0, cooldownMs: 1 }, () => 0)).toThrow(RangeError);
  });
});
