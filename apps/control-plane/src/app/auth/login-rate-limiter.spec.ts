import { LOGIN_ATTEMPTS_PER_WINDOW, LOGIN_WINDOW_MS, LoginRateLimiter, rateLimitKey } from './login-rate-limiter';
import { RateLimitedError } from './rate-limited.error';

describe('rateLimitKey', () => {
  it('counts an IPv4 address as itself, also when it arrives IPv4-mapped', () => {
    expect(rateLimitKey('203.0.113.7')).toBe('203.0.113.7');
    expect(rateLimitKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    expect(rateLimitKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(rateLimitKey('2001:0db8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(rateLimitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateLimitKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(rateLimitKey('::1')).toBe('0:0:0:0::/64');
  });

  it('puts requests without a known peer together', () => {
    expect(rateLimitKey(null)).toBe('unknown');
  });
});

describe('LoginRateLimiter', () => {
  let now = Date.parse('2026-12-20T10:00:00Z');
  const limiter = new LoginRateLimiter({ now: () => new Date(now) });

  it(`admits ${LOGIN_ATTEMPTS_PER_WINDOW} attempts a window per source, then says how long to wait`, () => {
    for (let attempt = 0; attempt < LOGIN_ATTEMPTS_PER_WINDOW; attempt += 1) {
      limiter.admit('198.51.100.1');
      now += 1_000;
    }
    let refused: unknown;
    try {
      limiter.admit('198.51.100.1');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(RateLimitedError);
    // The oldest attempt leaves the window 60 s after it was made, 10 s ago.
    expect((refused as RateLimitedError).retryAfterSeconds).toBe(LOGIN_WINDOW_MS / 1_000 - LOGIN_ATTEMPTS_PER_WINDOW);
    expect(() => limiter.admit('198.51.100.2')).not.toThrow();
    now += LOGIN_WINDOW_MS;
    expect(() => limiter.admit('198.51.100.1')).not.toThrow();
  });

  it('keeps counting a source across its other addresses in the same /64', () => {
    for (let attempt = 0; attempt < LOGIN_ATTEMPTS_PER_WINDOW; attempt += 1) limiter.admit(`2001:db8:5:6::${attempt + 1}`);
    expect(() => limiter.admit('2001:db8:5:6::ffff')).toThrow(RateLimitedError);
    expect(() => limiter.admit('2001:db8:5:7::1')).not.toThrow();
  });
});
