import { ReconnectBackoff, jittered } from './reconnect.backoff';

describe('ReconnectBackoff', () => {
  it('grows exponentially up to the cap, with full jitter, and resets', () => {
    const top = new ReconnectBackoff(250, 15_000, () => 0.999999);
    const delays = Array.from({ length: 10 }, () => top.nextDelayMs());
    expect(delays.slice(0, 4)).toEqual([249, 499, 999, 1999]);
    expect(Math.max(...delays)).toBeLessThan(15_000);
    top.reset();
    expect(top.nextDelayMs()).toBe(249);
    expect(new ReconnectBackoff(250, 15_000, () => 0).nextDelayMs()).toBe(0);
  });

  it("waits at least a busy control plane's retry-after, spread by up to a fifth of it, or the backoff when that is longer", () => {
    expect(new ReconnectBackoff(250, 15_000, () => 0).nextDelayMs(3_000)).toBe(3_000);
    expect(new ReconnectBackoff(250, 15_000, () => 0.999999).nextDelayMs(3_000)).toBe(3_599);
    const grown = new ReconnectBackoff(250, 15_000, () => 0.999999);
    for (let failure = 0; failure < 6; failure += 1) grown.nextDelayMs();
    expect(grown.nextDelayMs(1_000)).toBe(14_999);
  });

  it('spreads a period by ±10%', () => {
    expect(jittered(1000, 0.1, () => 0)).toBe(900);
    expect(jittered(1000, 0.1, () => 1)).toBe(1100);
  });
});
