import { MemoryNonceStore } from './memory-nonce-store';

describe('MemoryNonceStore', () => {
  let nowMs = 1_700_000_000_000;
  const clock = () => nowMs;

  it('accepts a nonce once and refuses it again until it expires', () => {
    const store = new MemoryNonceStore(clock);
    expect(store.remember('aa01', nowMs + 1_000)).toBe(true);
    expect(store.remember('aa01', nowMs + 1_000)).toBe(false);
    nowMs += 1_000;
    expect(store.remember('aa01', nowMs + 1_000)).toBe(true);
  });

  it('refuses new nonces when full of live ones, and makes room as they expire', () => {
    const store = new MemoryNonceStore(clock, { maxEntries: 2 });
    expect(store.remember('01', nowMs + 1_000)).toBe(true);
    expect(store.remember('02', nowMs + 5_000)).toBe(true);
    expect(store.remember('03', nowMs + 5_000)).toBe(false);
    nowMs += 1_000;
    expect(store.remember('03', nowMs + 5_000)).toBe(true);
    expect(store.remember('02', nowMs + 5_000)).toBe(false);
  });

  it('rejects input that is not a hex nonce with an integer expiry', () => {
    const store = new MemoryNonceStore(clock);
    expect(() => store.remember('not hex', nowMs + 1)).toThrow(RangeError);
    expect(() => store.remember('ab', Number.NaN)).toThrow(RangeError);
    expect(() => new MemoryNonceStore(clock, { maxEntries: 0 })).toThrow(RangeError);
  });
});
