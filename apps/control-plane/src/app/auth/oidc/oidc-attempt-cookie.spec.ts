import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpAdapterHost } from '@nestjs/core';
import { loadAppConfig } from '../../config/app-config';
import { SessionCookies } from '../session-cookie';
import { OIDC_ATTEMPT_LIFETIME_MS, OidcAttemptCookies, type OidcAttempt } from './oidc-attempt-cookie';

describe('OidcAttemptCookies', () => {
  let dir: string;
  const startedAt = Date.parse('2026-11-30T10:00:00Z');
  const attempt: OidcAttempt = { state: 'S'.repeat(43), nonce: 'N'.repeat(43), codeVerifier: 'V'.repeat(43), next: '/jobs?status=FAILED', startedAt };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-oidc-attempt-'));
    writeFileSync(join(dir, 'secret'), 'first-client-secret\n');
    writeFileSync(join(dir, 'other-secret'), 'second-client-secret\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function cookiesFor(publicUrl: string, secretFile = 'secret', issuer = 'https://login.example.com'): OidcAttemptCookies {
    const config = loadAppConfig({
      AIRLOCK_PUBLIC_URL: publicUrl,
      AIRLOCK_OIDC_ISSUER: issuer,
      AIRLOCK_OIDC_CLIENT_ID: 'airlock',
      AIRLOCK_OIDC_CLIENT_SECRET_FILE: join(dir, secretFile),
    });
    return new OidcAttemptCookies(config, new SessionCookies(config, new HttpAdapterHost()));
  }

  /** The request headers a browser sends back with the cookie of a Set-Cookie value. */
  function sentBack(setCookie: string): Record<string, string> {
    return { cookie: `other=1; ${setCookie.split(';')[0] ?? ''}; another=2` };
  }

  it('hands the attempt over HttpOnly, SameSite=Lax, scoped to the single sign-on routes for 10 minutes, and reads it back', () => {
    const cookies = cookiesFor('http://127.0.0.1:8080');
    const setCookie = cookies.issue(attempt);
    expect(setCookie).toMatch(/^airlock_oidc_attempt=[A-Za-z0-9_-]+; Path=\/api\/v1\/auth\/oidc; Max-Age=600; HttpOnly; SameSite=Lax$/);
    expect(cookies.read(sentBack(setCookie), new Date(startedAt + 60_000))).toEqual(attempt);
    expect(cookies.clear()).toBe('airlock_oidc_attempt=; Path=/api/v1/auth/oidc; Max-Age=0; HttpOnly; SameSite=Lax');
  });

  it('is Secure and __Secure- prefixed when the public URL is https', () => {
    const cookies = cookiesFor('https://airlock.example.com');
    const setCookie = cookies.issue(attempt);
    expect(setCookie).toMatch(/^__Secure-airlock_oidc_attempt=[A-Za-z0-9_-]+; Path=\/api\/v1\/auth\/oidc; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
    expect(cookies.read(sentBack(setCookie), new Date(startedAt))).toEqual(attempt);
    // The unprefixed name, which a sibling host could set, is not read.
    expect(cookies.read({ cookie: setCookie.split(';')[0]?.replace('__Secure-', '') ?? '' }, new Date(startedAt))).toBeNull();
  });

  it('keeps the state, nonce, verifier and next path unreadable', () => {
    const value = cookiesFor('http://127.0.0.1:8080').issue(attempt).split(';')[0]?.split('=')[1] ?? '';
    const decoded = Buffer.from(value, 'base64url').toString('latin1');
    for (const secret of ['SSSSSSSS', 'NNNNNNNN', 'VVVVVVVV', '/jobs']) expect(decoded).not.toContain(secret);
  });

  it('refuses an attempt changed by a single bit, sealed under another client secret or issuer, or cut short', () => {
    const cookies = cookiesFor('http://127.0.0.1:8080');
    const setCookie = cookies.issue(attempt);
    const [name, value = ''] = (setCookie.split(';')[0] ?? '').split('=');
    const bytes = Buffer.from(value, 'base64url');
    bytes[20] = (bytes[20] ?? 0) ^ 1;
    const now = new Date(startedAt);
    expect(cookies.read({ cookie: `${name}=${bytes.toString('base64url')}` }, now)).toBeNull();
    expect(cookies.read({ cookie: `${name}=${value.slice(0, 30)}` }, now)).toBeNull();
    expect(cookies.read({ cookie: `${name}=${'A'.repeat(3_000)}` }, now)).toBeNull();
    expect(cookiesFor('http://127.0.0.1:8080', 'other-secret').read(sentBack(setCookie), now)).toBeNull();
    expect(cookiesFor('http://127.0.0.1:8080', 'secret', 'https://other-login.example.com').read(sentBack(setCookie), now)).toBeNull();
    expect(cookies.read({}, now)).toBeNull();
  });

  it('refuses an attempt once 10 minutes have passed, and one from further in the future than clocks differ by', () => {
    const cookies = cookiesFor('http://127.0.0.1:8080');
    const headers = sentBack(cookies.issue(attempt));
    expect(cookies.read(headers, new Date(startedAt + OIDC_ATTEMPT_LIFETIME_MS - 1))).toEqual(attempt);
    expect(cookies.read(headers, new Date(startedAt + OIDC_ATTEMPT_LIFETIME_MS))).toBeNull();
    // Begun on a replica whose clock is a little ahead.
    expect(cookies.read(headers, new Date(startedAt - 2_000))).toEqual(attempt);
    expect(cookies.read(headers, new Date(startedAt - 61_000))).toBeNull();
  });
});
