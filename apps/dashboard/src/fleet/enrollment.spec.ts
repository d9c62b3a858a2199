import { createTokenBody, enrollCommand, isTokenLifetime, TOKEN_LIFETIMES } from './enrollment';

describe('enrollment tokens', () => {
  it('offers only lifetimes the API accepts (60 s to one day)', () => {
    for (const lifetime of TOKEN_LIFETIMES) expect(lifetime.seconds >= 60 && lifetime.seconds <= 86_400).toBe(true);
    expect(isTokenLifetime(900)).toBe(true);
    expect(isTokenLifetime(7 * 86_400)).toBe(false);
  });

  it('gives the enroll command as docs/worker.md has it', () => {
    expect(enrollCommand('aet_abc')).toBe('airlock-worker enroll --config worker.yml --token aet_abc');
  });

  it('sends a pool only when one was typed, trimmed', () => {
    expect(createTokenBody(900, '  ')).toEqual({ ttlSeconds: 900 });
    expect(createTokenBody(3_600, ' gpu ')).toEqual({ ttlSeconds: 3_600, pool: 'gpu' });
  });
});
