import type { DataAccess } from '@airlock/data-access';
import { ROLE_SCOPES, type Scope } from '../app/auth/access';
import { API_TOKEN_PREFIX, generateSecretToken, hashSecretToken } from '../app/auth/secret-token';

/** A fresh tenant with an API token holding every admin scope, so each scenario sees only its own jobs and workers. */
export async function createTenantWithAdminToken(data: DataAccess, name: string): Promise<{ tenantId: string; token: string }> {
  const tenant = await data.tenants.create(name);
  const token = generateSecretToken(API_TOKEN_PREFIX);
  await data.apiTokens.create({ tenantId: tenant.id, name: 'integration test', scopes: ROLE_SCOPES.ADMIN, tokenHash: hashSecretToken(token) });
  return { tenantId: tenant.id, token };
}

/** Another API token of the tenant, holding the given scopes. */
export async function createApiToken(data: DataAccess, tenantId: string, scopes: readonly Scope[], name: string): Promise<string> {
  const token = generateSecretToken(API_TOKEN_PREFIX);
  await data.apiTokens.create({ tenantId, name, scopes, tokenHash: hashSecretToken(token) });
  return token;
}
