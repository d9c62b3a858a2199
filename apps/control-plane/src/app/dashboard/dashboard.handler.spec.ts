import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { dashboardHandler } from './dashboard.handler';

const INDEX_HTML = '<!doctype html><title>Airlock</title><script type="module" src="/assets/index-abc123.js"></script>';

/** A logger that keeps what was warned. */
function recordingLogger(): LoggerService & { warnings: unknown[] } {
  const warnings: unknown[] = [];
  return { warnings, log: () => undefined, error: () => undefined, warn: (message: unknown) => warnings.push(message) };
}

/** Serves `dir` through the handler; whatever it passes on answers 404 "api". */
async function serve(dir: string, logger: LoggerService): Promise<{ url: string; server: Server }> {
  const handler = dashboardHandler(dir, logger);
  const server = createServer((request, response) =>
    handler(request, response, () => {
      response.statusCode = 404;
      response.end('passed on');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('dashboardHandler', () => {
  let root: string;
  let built: string;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'airlock-dashboard-handler-'));
    built = join(root, 'built');
    mkdirSync(join(built, 'assets'), { recursive: true });
    writeFileSync(join(built, 'index.html'), INDEX_HTML);
    writeFileSync(join(built, 'assets', 'index-abc123.js'), 'console.log(1);');
    writeFileSync(join(root, 'secret.txt'), 'outside the dashboard');
    ({ server, url } = await serve(built, recordingLogger()));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it('answers client routes with index.html, never cached without asking again, with the security headers', async () => {
    for (const path of ['/', '/jobs', '/jobs/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f?tab=phases', '/login']) {
      const response = await fetch(`${url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(INDEX_HTML);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('content-security-policy')).not.toContain('unsafe-inline');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  it('serves hashed assets for a year, and 304 when the browser has them', async () => {
    const response = await fetch(`${url}/assets/index-abc123.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = response.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await fetch(`${url}/assets/index-abc123.js`, { headers: { 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);
  });

  it('answers a missing asset 404, not index.html under a script name', async () => {
    const response = await fetch(`${url}/assets/index-gone.js`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('text/plain');
  });

  it('passes /api and every non-GET request on to the REST API', async () => {
    for (const path of ['/api', '/api/v1/nothing-here', '/api/docs', '/api?x=1']) expect(await (await fetch(`${url}${path}`)).text()).toBe('passed on');
    expect(await (await fetch(`${url}/jobs`, { method: 'POST' })).text()).toBe('passed on');
  });

  it('never serves a file outside its folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const response = await fetch(`${url}${path}`);
      expect(await response.text()).not.toContain('outside the dashboard');
    }
    expect((await fetch(`${url}/%E0%A4%A`)).status).toBe(400);
  });

  it('without a build, says so once in the log and answers a page naming the build command', async () => {
    const logger = recordingLogger();
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const unbuilt = await serve(empty, logger);
    try {
      expect(logger.warnings).toEqual([expect.objectContaining({ event: 'dashboard_not_built', build: 'npm run dashboard:build' })]);
      const response = await fetch(`${unbuilt.url}/`);
      expect(response.status).toBe(503);
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await response.text()).toContain('npm run dashboard:build');
      await fetch(`${unbuilt.url}/jobs`);
      expect(logger.warnings).toHaveLength(1);
    } finally {
      await new Promise((resolve) => unbuilt.server.close(resolve));
    }
  });
});
