import { SAME_ORIGIN_PATH } from './oidc.dto';

describe('SAME_ORIGIN_PATH (where a sign-in may return to)', () => {
  it.each(['/', '/jobs', '/jobs?status=FAILED&limit=50', '/jobs/6f1d2c3b#events', '/policies/%2F%2Fnot-a-host'])('accepts %s', (path) => {
    expect(SAME_ORIGIN_PATH.test(path)).toBe(true);
  });

  it.each(['', 'jobs', '//attacker.example', '/\\attacker.example', '/a\\b', 'https://attacker.example/', '/a b', '/a\tb', '/\u00e9', '/x\n'])('refuses %j', (path) => {
    expect(SAME_ORIGIN_PATH.test(path)).toBe(false);
  });

  it('keeps every accepted path on the origin it is resolved against', () => {
    for (const path of ['/', '/.//attacker.example', '/..//attacker.example', '/%5Cattacker.example', '/@attacker.example']) {
      expect(SAME_ORIGIN_PATH.test(path)).toBe(true);
      expect(new URL(path, 'https://airlock.example.com').origin).toBe('https://airlock.example.com');
    }
  });
});
