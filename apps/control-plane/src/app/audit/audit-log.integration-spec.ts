import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { auditEntryHash, GENESIS_AUDIT_HASH, type AuditActor } from '@airlock/data-access';
import { createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { startControlPlane, type RunningControlPlane } from '../control-plane';

jest.setTimeout(120_000);

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let token: string;
let tenantId: string;
const alice: AuditActor = { kind: 'USER', id: '00000000-0000-4000-8000-00000000a11c', name: 'Alice', sourceIp: '10.0.0.7' };
const robot: AuditActor = { kind: 'API_TOKEN', id: '00000000-0000-4000-8000-0000000000b0', name: 'deploy bot', sourceIp: null };

interface Entry {
  seq: number;
  at: string;
  actorKind: string;
  actorId: string;
  actorName: string;
  action: string;
  target: string;
  details: Record<string, string | number | boolean | null>;
  sourceIp: string | null;
  prevHash: string;
  hash: string;
}

beforeAll(async () => {
  cluster = await startPostgresCluster();
  controlPlane = await startControlPlane(testAppConfig(await createDatabase(cluster.url, 'audit_log_it')));
  ({ token, tenantId } = await createTenantWithAdminToken(controlPlane.dataAccess, 'audit-log'));
  const record = (action: string, target: string) => ({ action, target, details: { note: '=HYPERLINK("x"), "quoted"' } });
  await controlPlane.dataAccess.audit.append(tenantId, alice, record('policy.created', 'policy:a'), new Date('2026-12-01T09:00:00Z'));
  await controlPlane.dataAccess.audit.append(tenantId, robot, record('enrollment-token.created', 'enrollment-token:b'), new Date('2026-12-02T09:00:00Z'));
  await controlPlane.dataAccess.audit.append(tenantId, alice, record('policy.published', 'policy:a'), new Date('2026-12-03T09:00:00Z'));
  await controlPlane.dataAccess.audit.append(tenantId, robot, record('worker.revoked', 'worker:c'), new Date('2026-12-04T09:00:00Z'));
  // Another tenant's entries never show in this tenant's listing or export.
  const other = await createTenantWithAdminToken(controlPlane.dataAccess, 'audit-log-other');
  await controlPlane.dataAccess.audit.append(other.tenantId, alice, record('policy.created', 'policy:z'), new Date('2026-12-01T10:00:00Z'));
});

afterAll(async () => {
  await controlPlane?.stop();
  await cluster?.stop();
});

async function get(path: string): Promise<Response> {
  return fetch(`${controlPlane.httpUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
}

async function entries(query: string): Promise<Entry[]> {
  const response = await get(`/audit-log?${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Entry[];
}

describe('audit log listing', () => {
  it('filters by an exact action, an action family, an actor and a time window', async () => {
    expect((await entries('action=policy.published')).map((entry) => entry.seq)).toEqual([3]);
    expect((await entries('action=policy.')).map((entry) => entry.action)).toEqual(['policy.created', 'policy.published']);
    expect((await entries(`actorId=${robot.id}`)).map((entry) => [entry.actorKind, entry.actorName])).toEqual([
      ['API_TOKEN', 'deploy bot'],
      ['API_TOKEN', 'deploy bot'],
    ]);
    expect((await entries('from=2026-12-02T00:00:00Z&to=2026-12-04T00:00:00Z')).map((entry) => entry.seq)).toEqual([2, 3]);
  });

  it('pages newest first with beforeSeq', async () => {
    expect((await entries('order=desc&limit=3')).map((entry) => entry.seq)).toEqual([4, 3, 2]);
    expect((await entries('order=desc&beforeSeq=2')).map((entry) => entry.seq)).toEqual([1]);
  });

  it.each([
    ['action=Policy', 'action: expected an action such as policy.published'],
    ['actorId=alice', 'actorId: expected a UUID'],
    ['from=yesterday', 'from: expected an ISO 8601 timestamp'],
    ['order=sideways', 'order: expected asc or desc'],
  ])('answers %s with a 400 that names the field', async (query, message) => {
    const response = await get(`/audit-log?${query}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain(message);
  });
});

describe('audit log export', () => {
  it('streams JSON Lines whose chain re-verifies offline, this tenant only', async () => {
    const response = await get('/audit-log/export');
    expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="airlock-audit-log.jsonl"');
    const lines = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as Entry & { tenantId: string });
    expect(lines.map((line) => line.seq)).toEqual([1, 2, 3, 4]);
    let prevHash = GENESIS_AUDIT_HASH;
    for (const line of lines) {
      expect(line.tenantId).toBe(tenantId);
      expect(line.prevHash).toBe(prevHash);
      const { hash, ...covered } = line;
      expect(auditEntryHash({ ...covered, at: new Date(covered.at), actorKind: covered.actorKind === 'USER' ? 'USER' : 'API_TOKEN' })).toBe(hash);
      prevHash = hash;
    }
  });

  it('writes CSV with a header and RFC 4180 quoting, filtered like the listing', async () => {
    const response = await get('/audit-log/export?format=csv&action=policy.');
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const records = (await response.text()).split('\r\n');
    expect(records[0]).toBe('seq,at,actorKind,actorId,actorName,action,target,details,sourceIp,prevHash,hash');
    expect(records).toHaveLength(4); // header, two entries, and the empty string after the last CRLF
    expect(records[1]).toMatch(/^1,2026-12-01T09:00:00\.000Z,USER,[0-9a-f-]{36},Alice,policy\.created,policy:a,"\{""note"":""=HYPERLINK\(\\""x\\""\), \\""quoted\\""""\}",10\.0\.0\.7,0{64},[0-9a-f]{64}$/);
  });

  it('refuses an unknown format by name', async () => {
    const response = await get('/audit-log/export?format=xml');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('format: expected jsonl or csv');
  });
});
