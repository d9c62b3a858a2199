import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { testAppConfig } from '../../test-support/test-app-config';
import { startControlPlane, type RunningControlPlane } from '../control-plane';

jest.setTimeout(60_000);

const INDEX_HTML = '<!doctype html><title>Airlock</title><div id="root"></div>';

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let dashboardDir: string;

beforeAll(async () => {
  dashboardDir = mkdtempSync(join(tmpdir(), 'airlock-dashboard-it-'));
  mkdirSync(join(dashboardDir, 'assets'));
  writeFileSync(join(dashboardDir, 'index.html'), INDEX_HTML);
  writeFileSync(join(dashboardDir, 'assets', 'app-1a2b3c.css'), 'body{}');
  cluster = await startPostgresCluster();
  const databaseUrl = await createDatabase(cluster.url, 'dashboard_it');
  controlPlane = await startControlPlane(testAppConfig(databaseUrl, { AIRLOCK_DASHBOARD_DIR: dashboardDir }));
});

afterAll(async () => {
  await controlPlane?.stop();
  await cluster?.stop();
  rmSync(dashboardDir, { recursive: true, force: true });
});

describe('the control plane serves the dashboard on its own port', () => {
  it('answers / and client routes with index.html and the dashboard security headers', async () => {
    for (const path of ['/', '/jobs', '/jobs/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f']) {
      const response = await fetch(`${controlPlane.httpUrl}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(INDEX_HTML);
      expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const asset = await fetch(`${controlPlane.httpUrl}/assets/app-1a2b3c.css`);
    expect(asset.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('keeps the JSON errors of /api: an unknown route is ROUTE_NOT_FOUND, not index.html', async () => {
    for (const path of ['/api/v1/no-such-route', '/api/no-such-version', '/api']) {
      const response = await fetch(`${controlPlane.httpUrl}${path}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(await response.json()).toMatchObject({ statusCode: 404, code: 'ROUTE_NOT_FOUND' });
      expect(response.headers.get('content-security-policy')).toBeNull();
    }
    const malformed = await fetch(`${controlPlane.httpUrl}/api/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'MALFORMED_JSON' });
  });

  it('still serves the OpenAPI document and its UI under /api/docs', async () => {
    const document = await fetch(`${controlPlane.httpUrl}/api/docs-json`);
    expect(document.status).toBe(200);
    expect(await document.json()).toMatchObject({ openapi: expect.any(String), paths: expect.objectContaining({ '/api/v1/jobs': expect.any(Object) }) });
    expect((await fetch(`${controlPlane.httpUrl}/api/docs`)).status).toBe(200);
  });
});
