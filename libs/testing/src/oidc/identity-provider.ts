import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** A client the identity provider knows (OAuth 2 client metadata, as oidc-provider takes it). */
export interface TestOidcClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly redirect_uris: readonly string[];
}

/**
 * A person who can sign in at the identity provider, by login name. The login name is also
 * their subject (`sub`): oidc-provider's development login form makes what is typed the
 * account id, and the account id the subject, so no other subject can be given.
 */
export interface TestOidcAccount {
  readonly claims: { readonly email?: string; readonly email_verified?: boolean; readonly name?: string };
}

/** A running identity provider process. */
export interface TestIdentityProvider {
  readonly issuer: string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;

/**
 * Starts a real OpenID Connect provider (oidc-provider, in its own process) on 127.0.0.1
 * with the given clients and accounts. Sign-ins go through its development login and consent
 * pages: `signInAtIdentityProvider` fills them in like a browser would.
 */
export async function startTestIdentityProvider(options: {
  readonly clients: readonly TestOidcClient[];
  readonly accounts: Readonly<Record<string, TestOidcAccount>>;
  /**
   * The port to listen on (default: one the system picks). A test that starts a relying party
   * before its provider (a provider that is down, then up) fixes the issuer URL this way.
   */
  readonly port?: number;
}): Promise<TestIdentityProvider> {
  const child = spawn(process.execPath, [path.join(__dirname, 'identity-provider.process.mjs')], {
    env: { ...process.env, AIRLOCK_TEST_IDP_CONFIG: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the test identity provider did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^listening (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the test identity provider exited with ${code}: ${stderr}`));
    });
  });
  return {
    issuer,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Cookies per origin, enough to carry the provider's interaction session across redirects. */
class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  store(url: URL, response: Response): void {
    const jar = this.cookies.get(url.origin) ?? new Map<string, string>();
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const separator = pair.indexOf('=');
      if (separator > 0) jar.set(pair.slice(0, separator).trim(), pair.slice(separator + 1).trim());
    }
    this.cookies.set(url.origin, jar);
  }

  header(url: URL): string {
    return [...(this.cookies.get(url.origin) ?? new Map<string, string>())].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

const MAX_STEPS = 20;

/**
 * Follows an authorization URL through the provider's development pages as `login`: submits
 * the login form, then the consent form, and returns the URL the provider finally redirects
 * to outside itself (the client's redirect URI with `code` and `state`, or with `error`).
 */
export async function signInAtIdentityProvider(authorizationUrl: string, login: string): Promise<URL> {
  const jar = new CookieJar();
  let next: { url: URL; method: 'GET' | 'POST'; body?: URLSearchParams } = { url: new URL(authorizationUrl), method: 'GET' };
  const providerOrigin = next.url.origin;
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const response = await fetch(next.url, {
      method: next.method,
      redirect: 'manual',
      headers: { cookie: jar.header(next.url), ...(next.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(next.body ? { body: next.body } : {}),
    });
    jar.store(next.url, response);
    const location = response.headers.get('location');
    if (location) {
      const target = new URL(location, next.url);
      if (target.origin !== providerOrigin) return target;
      next = { url: target, method: 'GET' };
      continue;
    }
    const page = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    if (!action) throw new Error(`the identity provider answered ${response.status} without a form or redirect at ${next.url.pathname}`);
    const body = new URLSearchParams();
    for (const [tag] of page.matchAll(/<input\b[^>]*>/g)) {
      const name = /\bname="([^"]+)"/.exec(tag)?.[1];
      if (name) body.set(name, /\bvalue="([^"]*)"/.exec(tag)?.[1] ?? '');
    }
    if (body.has('login')) body.set('login', login);
    if (body.has('password')) body.set('password', 'any');
    next = { url: new URL(action, next.url), method: 'POST', body };
  }
  throw new Error(`no redirect back to the client after ${MAX_STEPS} steps at the identity provider`);
}
