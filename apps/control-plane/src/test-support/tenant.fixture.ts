import type { ApiTokenRole, DataAccess } from '@airlock/data-access';
import { API_TOKEN_PREFIX, generateSecretToken, hashSecretToken } from '../app/auth/secret-token';

/** A fresh tenant with an admin API token, so each scenario sees only its own jobs and workers. */
export async function createTenantWithAdminToken(data: DataAccess, name: string): Promise<{ tenantId: string; token: string }> {
  const tenant = await data.tenants.create(name);
  const token = generateSecretToken(API_TOKEN_PREFIX);
  await data.apiTokens.create({ tenantId: tenant.id, name: 'integration test', role: 'ADMIN', tokenHash: hashSecretToken(token) });
  return { tenantId: tenant.id, token };
}

/** Another API token of the tenant, with the given role. */
export async function createApiToken(data: DataAccess, tenantId: string, role: ApiTokenRole, name: string): Promise<string> {
  const token = generateSecretToken(API_TOKEN_PREFIX);
  await data.apiTokens.create({ tenantId, name, role, tokenHash: hashSecretToken(token) });
  return token;
}
