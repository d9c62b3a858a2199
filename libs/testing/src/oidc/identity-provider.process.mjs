// A real OpenID Connect identity provider (oidc-provider) for tests, run as its own process
// because oidc-provider is ESM-only. It reads its clients and accounts as JSON from the
// AIRLOCK_TEST_IDP_CONFIG environment variable, listens on 127.0.0.1 on the port it names or a free one, and
// prints one line, `listening <issuer>`, once it accepts connections.
// Logins go through oidc-provider's own development interaction pages (a login form that
// takes any known login name, then a consent form), which tests drive like a person would.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.AIRLOCK_TEST_IDP_CONFIG ?? '{}');
const accounts = new Map(Object.entries(config.accounts ?? {}));

// The issuer URL names the port, so the port is taken before the provider is made: the one
// the test asked for (AIRLOCK_TEST_IDP_CONFIG's port), or a free one.
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port ?? 0, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: config.clients ?? [],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  scopes: ['openid', 'email', 'profile'],
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['airlock-test-identity-provider'] },
  // oidc-provider makes the accountId the subject (sub) of every token, and its development
  // login form makes the login name the accountId: the login name is the subject.
  async findAccount(_ctx, login) {
    const account = accounts.get(login);
    if (!account) return undefined;
    return { accountId: login, claims: async () => ({ ...account.claims, sub: login }) };
  },
});
// oidc-provider warns about development-only features on stderr; the tests want exactly that setup.
provider.on('server_error', (_ctx, error) => console.error(`server_error: ${error.message}`));
server.on('request', provider.callback());
process.stdout.write(`listening ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
