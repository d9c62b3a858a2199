import { parseOidcClaims } from './oidc-identity';

const ISSUER = 'https://login.example.com';

describe('parseOidcClaims', () => {
  it('keeps a verified email, trimmed and lowercased like every email here', () => {
    expect(parseOidcClaims({ issuer: ISSUER, subject: 'abc', email: ' Ada@Example.COM ', emailVerified: true, name: 'Ada Lovelace' })).toEqual({
      ok: true,
      signIn: { issuer: ISSUER, subject: 'abc', verifiedEmail: 'ada@example.com', displayName: 'Ada Lovelace' },
    });
  });

  it.each([
    ['false', false],
    ['the string "true"', 'true'],
    ['absent', undefined],
  ])('uses no email when email_verified is %s', (_label, emailVerified) => {
    const parsed = parseOidcClaims({ issuer: ISSUER, subject: 'abc', email: 'ada@example.com', emailVerified, name: 'Ada' });
    expect(parsed).toMatchObject({ ok: true, signIn: { verifiedEmail: null } });
  });

  it('uses no email that is malformed or longer than any email here', () => {
    for (const email of ['not an address', `${'a'.repeat(250)}@example.com`, 42, null]) {
      expect(parseOidcClaims({ issuer: ISSUER, subject: 'abc', email, emailVerified: true, name: 'Ada' })).toMatchObject({ ok: true, signIn: { verifiedEmail: null } });
    }
  });

  it('refuses an empty or overlong subject or issuer, without quoting it', () => {
    expect(parseOidcClaims({ issuer: ISSUER, subject: '', email: undefined, emailVerified: undefined, name: undefined })).toEqual({ ok: false, reason: 'the sub claim is empty or longer than 255 characters' });
    expect(parseOidcClaims({ issuer: ISSUER, subject: 'x'.repeat(256), email: undefined, emailVerified: undefined, name: undefined })).toMatchObject({ ok: false });
    expect(parseOidcClaims({ issuer: '', subject: 'abc', email: undefined, emailVerified: undefined, name: undefined })).toMatchObject({ ok: false, reason: expect.stringContaining('iss') });
  });

  it('makes a one-line display name of at most 100 characters, from the name or else the email', () => {
    const named = (name: unknown, email: unknown = 'ada@example.com') => {
      const parsed = parseOidcClaims({ issuer: ISSUER, subject: 'abc', email, emailVerified: true, name });
      return parsed.ok ? parsed.signIn.displayName : null;
    };
    expect(named('  Ada\nLovelace\u0000 ')).toBe('Ada Lovelace');
    expect(named('é'.repeat(150))).toBe('é'.repeat(100));
    expect(named('Ada \uD800 Lovelace')).toBe('Ada \uFFFD Lovelace');
    expect(named(undefined)).toBe('ada');
    expect(named('   ')).toBe('ada');
    expect(named(undefined, null)).toBe('unnamed');
  });
});
