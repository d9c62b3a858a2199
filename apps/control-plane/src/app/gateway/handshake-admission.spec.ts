import { HandshakeAdmission, MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS } from './handshake-admission';

describe('HandshakeAdmission', () => {
  let now: number;
  const admission = (limit: number) => new HandshakeAdmission(limit, () => now);

  beforeEach(() => {
    now = 1_000;
  });

  it('admits up to the limit, refuses past it, and admits again once a slot is given back (once)', () => {
    const gate = admission(2);
    const first = gate.tryAdmit();
    const second = gate.tryAdmit();
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(gate.tryAdmit()).toBeNull();
    expect(gate.counts()).toEqual({ inProgress: 2, limit: 2, refused: 1, abandoned: 0 });

    first!.release(false);
    first!.release(true);
    expect(gate.counts().inProgress).toBe(1);
    expect(gate.tryAdmit()).not.toBeNull();
    expect(gate.tryAdmit()).toBeNull();
    expect(gate.counts()).toEqual({ inProgress: 2, limit: 2, refused: 2, abandoned: 0 });
  });

  it('gives each refused worker a later place, one handshake apart at the assumed pace, from the shortest wait on', () => {
    const gate = admission(100);
    // 250 ms assumed per handshake, 100 at a time: a place every 2.5 ms.
    expect([gate.retryAfterMs(), gate.retryAfterMs(), gate.retryAfterMs()]).toEqual([MIN_RETRY_AFTER_MS + 3, MIN_RETRY_AFTER_MS + 5, MIN_RETRY_AFTER_MS + 8]);
    // The queue moves with time: 100 ms later those places are all within the shortest wait, and the next is right after it.
    now += 100;
    expect(gate.retryAfterMs()).toBe(MIN_RETRY_AFTER_MS + 3);
  });

  it('spaces the places by what welcomed handshakes took, and never asks for more than the longest wait', () => {
    const gate = admission(10);
    // Handshakes that take 10 s each, ten at a time: one completes every second.
    for (let round = 0; round < 200; round += 1) {
      const slot = gate.tryAdmit()!;
      now += 10_000;
      slot.release(true);
    }
    const first = gate.retryAfterMs();
    const second = gate.retryAfterMs();
    expect(second - first).toBeGreaterThan(990);
    expect(second - first).toBeLessThan(1_010);
    for (let refused = 0; refused < 100; refused += 1) gate.retryAfterMs();
    expect(gate.retryAfterMs()).toBe(MAX_RETRY_AFTER_MS);
  });

  it('learns nothing from handshakes that were not welcomed', () => {
    const gate = admission(100);
    const slot = gate.tryAdmit()!;
    now += 60_000;
    slot.release(false);
    expect(gate.retryAfterMs()).toBe(MIN_RETRY_AFTER_MS + 3);
  });

  it('counts abandoned handshake steps, and refuses a limit that is not a positive integer', () => {
    const gate = admission(1);
    gate.recordAbandoned();
    gate.recordAbandoned(2);
    expect(gate.counts().abandoned).toBe(3);
    for (const limit of [0, -1, 1.5, Number.NaN]) expect(() => admission(limit)).toThrow(RangeError);
  });
});
