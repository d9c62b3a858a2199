import { createReadStream, existsSync, statSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { LoggerService } from '@nestjs/common';

/** What builds the dashboard into the folder this handler serves. */
export const DASHBOARD_BUILD_COMMAND = 'npm run dashboard:build';

/**
 * Headers of every dashboard response. The CSP admits only the dashboard's own files: no
 * inline script or style (Vite's build emits none), no framing, no other origin to talk to.
 */
export const DASHBOARD_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

// Vite names every file under assets/ by a hash of its content, so a browser may keep one forever.
const HASHED_ASSETS_PREFIX = '/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
// index.html names the current hashed files: always asked again (answered 304 when unchanged).
const REVALIDATE = 'no-cache';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

type Next = (error?: unknown) => void;

/**
 * Express middleware serving the built dashboard from `dir` on the control plane's own port:
 * its files, and index.html for every other GET outside /api (client-side routes such as
 * /jobs/<id>). Anything under /api, and any other method, goes on to the REST API, which keeps
 * its JSON errors. When `dir` holds no index.html it says so once in the log, and `/` answers
 * a page naming the command that builds it; a build made later is served without a restart.
 */
export function dashboardHandler(dir: string, logger: LoggerService) {
  const root = path.resolve(dir);
  const indexFile = path.join(root, 'index.html');
  if (!existsSync(indexFile)) logger.warn({ event: 'dashboard_not_built', dir: root, build: DASHBOARD_BUILD_COMMAND }, 'Dashboard');

  return (request: IncomingMessage, response: ServerResponse, next: Next): void => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || isApiPath(request.url ?? '/')) {
      next();
      return;
    }
    for (const [name, value] of Object.entries(DASHBOARD_SECURITY_HEADERS)) response.setHeader(name, value);
    const urlPath = decodedPath(request.url ?? '/');
    if (urlPath === null) {
      sendText(response, 400, 'text/plain; charset=utf-8', 'Bad request path\n');
      return;
    }
    const file = fileUnder(root, urlPath);
    if (file && file.path !== indexFile) {
      sendFile(request, response, file.path, file.stats, urlPath.startsWith(HASHED_ASSETS_PREFIX) ? IMMUTABLE : REVALIDATE);
      return;
    }
    // A missing script or stylesheet must be a 404, never index.html served under its name.
    if (urlPath.startsWith(HASHED_ASSETS_PREFIX)) {
      sendText(response, 404, 'text/plain; charset=utf-8', 'Not found\n');
      return;
    }
    const index = statFile(indexFile);
    if (!index) {
      sendText(response, 503, 'text/html; charset=utf-8', notBuiltPage(root));
      return;
    }
    sendFile(request, response, indexFile, index, REVALIDATE);
  };
}

function isApiPath(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

/** The request's path, percent-decoded; null when it cannot be decoded or holds a NUL. */
function decodedPath(url: string): string | null {
  const rawPath = url.split('?', 1)[0] ?? '/';
  try {
    const decoded = decodeURIComponent(rawPath);
    return decoded.includes('\0') ? null : decoded;
  } catch {
    return null;
  }
}

/** The regular file `urlPath` names inside root, or null: never a path that climbs out of it. */
function fileUnder(root: string, urlPath: string): { path: string; stats: Stats } | null {
  const candidate = path.resolve(root, `.${path.posix.normalize(urlPath)}`);
  if (!candidate.startsWith(`${root}${path.sep}`)) return null;
  const stats = statFile(candidate);
  return stats ? { path: candidate, stats } : null;
}

function statFile(file: string): Stats | null {
  try {
    const stats = statSync(file);
    return stats.isFile() ? stats : null;
  } catch {
    return null;
  }
}

function sendFile(request: IncomingMessage, response: ServerResponse, file: string, stats: Stats, cacheControl: string): void {
  const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  response.setHeader('Cache-Control', cacheControl);
  response.setHeader('ETag', etag);
  if (request.headers['if-none-match'] === etag) {
    response.statusCode = 304;
    response.end();
    return;
  }
  response.statusCode = 200;
  response.setHeader('Content-Type', CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream');
  response.setHeader('Content-Length', String(stats.size));
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const stream = createReadStream(file);
  // The file vanished mid-read (a rebuild): end the response rather than leave it hanging.
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

function sendText(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', contentType);
  response.setHeader('Cache-Control', 'no-store');
  response.end(body);
}

function notBuiltPage(dir: string): string {
  const escapedDir = dir.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Airlock — dashboard not built</title></head>',
    '<body><main>',
    '<h1>The Airlock dashboard is not built</h1>',
    `<p>No <code>index.html</code> in <code>${escapedDir}</code>. Build it from the repository root with</p>`,
    `<pre>${DASHBOARD_BUILD_COMMAND}</pre>`,
    '<p>or point <code>AIRLOCK_DASHBOARD_DIR</code> at a built dashboard. The REST API is at <a href="/api/docs">/api/docs</a>.</p>',
    '</main></body></html>',
    '',
  ].join('\n');
}
