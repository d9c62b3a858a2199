import type { Clock } from '../app/common/clock';

/** Real time plus an offset a test moves forward: lockouts, sessions and tokens expire on demand. */
export class ShiftedClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** A response as the assertions read it. */
export interface ApiAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** How a request authenticates: nothing, an API token, or a browser's session cookie (with or without its CSRF token). */
export type Credentials = null | { readonly bearer: string } | CookieCredentials;

/** A browser's session cookie, its CSRF token when it sends one, and the Origin it names, if any. */
export interface CookieCredentials {
  readonly cookie: string;
  readonly csrfToken?: string | null;
  readonly origin?: string;
}

/** A session as a browser holds it after a login. */
export interface BrowserSession {
  /** `name=value`, as a browser sends it back in Cookie. */
  readonly cookie: string;
  readonly csrfToken: string;
  readonly setCookie: string;
  readonly body: Record<string, unknown>;
}

/** Calls the REST API at `httpUrl` as the credentials say, JSON in and out. */
export async function callApi<T = Record<string, unknown>>(
  httpUrl: string,
  credentials: Credentials,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (credentials && 'bearer' in credentials) headers['authorization'] = `Bearer ${credentials.bearer}`;
  if (credentials && 'cookie' in credentials) {
    headers['cookie'] = credentials.cookie;
    if (credentials.csrfToken) headers['x-csrf-token'] = credentials.csrfToken;
    if (credentials.origin) headers['origin'] = credentials.origin;
  }
  const response = await fetch(`${httpUrl}/api/v1${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
}

/** The `name=value` part of a Set-Cookie header. */
export function cookiePair(setCookie: string | null): string {
  if (!setCookie) throw new Error('expected a Set-Cookie header');
  const pair = setCookie.split(';')[0];
  if (!pair) throw new Error(`unreadable Set-Cookie: ${setCookie}`);
  return pair;
}

/** Logs in as a browser would, failing the test unless it works. */
export async function logIn(httpUrl: string, email: string, password: string): Promise<BrowserSession> {
  const answer = await callApi(httpUrl, null, 'POST', '/auth/login', { email, password });
  if (answer.status !== 200) throw new Error(`login of ${email} answered ${answer.status} ${JSON.stringify(answer.body)}`);
  const setCookie = answer.headers.get('set-cookie') ?? '';
  return { cookie: cookiePair(setCookie), csrfToken: String(answer.body['csrfToken']), setCookie, body: answer.body };
}

/** The credentials of a logged-in browser, sending its CSRF token. */
export function asBrowser(session: BrowserSession): CookieCredentials {
  return { cookie: session.cookie, csrfToken: session.csrfToken };
}
