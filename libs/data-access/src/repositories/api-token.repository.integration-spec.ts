import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { openDataAccess, type DataAccess } from '../data-access';
import { createDatabaseClient, type DatabaseClient } from '../database-client';
import { ApiTokenRepository } from './api-token.repository';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let data: DataAccess;
let client: DatabaseClient;
let url: string;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  url = await createDatabase(cluster.url, 'api_token_it');
  data = await openDataAccess({ kind: 'url', url });
  client = createDatabaseClient(url, { maxConnections: 4 });
});

afterAll(async () => {
  await client?.$disconnect();
  await data?.close();
  await cluster?.stop();
});

/** A repository over a client that counts its token lookups. */
function countingRepository(): { repository: ApiTokenRepository; lookups: () => number } {
  let lookups = 0;
  const apiToken = new Proxy(client.apiToken, {
    get(target, property, receiver) {
      if (property === 'findUnique') lookups += 1;
      return Reflect.get(target, property, receiver);
    },
  });
  const counted = new Proxy(client, { get: (target, property, receiver) => (property === 'apiToken' ? apiToken : Reflect.get(target, property, receiver)) });
  return { repository: new ApiTokenRepository(counted), lookups: () => lookups };
}

describe('ApiTokenRepository.authenticate', () => {
  it('reads a token once for the requests that present it at the same time, and sees a revocation on the next read', async () => {
    const tenant = await data.tenants.create('api-token-lookups');
    const tokenHash = 'ab'.repeat(32);
    const { id } = await data.apiTokens.create({ tenantId: tenant.id, name: 'ci', scopes: ['jobs:write'], tokenHash, expiresAt: new Date(Date.now() + 3_600_000) });
    const { repository, lookups } = countingRepository();

    const grants = await Promise.all(Array.from({ length: 20 }, () => repository.authenticate(tokenHash, new Date())));
    expect(grants.every((grant) => grant?.tokenId === id && grant.tenantId === tenant.id)).toBe(true);
    expect(lookups()).toBe(1);

    await client.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
    expect(await repository.authenticate(tokenHash, new Date())).toBeNull();
    expect(lookups()).toBe(2);
    // An unknown token, asked for twice at once, is one read and refused for both.
    expect(await Promise.all([repository.authenticate('cd'.repeat(32), new Date()), repository.authenticate('cd'.repeat(32), new Date())])).toEqual([null, null]);
    expect(lookups()).toBe(3);
  });

  it('judges expiry by each request\'s own time, also on a shared read', async () => {
    const tenant = await data.tenants.create('api-token-expiry');
    const tokenHash = 'ef'.repeat(32);
    const expiresAt = new Date(Date.now() + 60_000);
    await data.apiTokens.create({ tenantId: tenant.id, name: 'short', scopes: ['jobs:read'], tokenHash, expiresAt });
    const { repository } = countingRepository();
    const [before, after] = await Promise.all([repository.authenticate(tokenHash, new Date()), repository.authenticate(tokenHash, new Date(expiresAt.getTime() + 1))]);
    expect(before?.name).toBe('short');
    expect(after).toBeNull();
  });
});
