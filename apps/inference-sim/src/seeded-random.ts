/**
 * Returns a deterministic pseudo-random generator yielding floats in [0, 1).
 *
 * mulberry32: tiny and evenly spread enough to decide which requests get an injected fault,
 * and, unlike `Math.random`, replayable from `--seed` so a flaky-looking run can be reproduced.
 * Not for anything security related.
 */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
