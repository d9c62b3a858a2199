import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server answered: enough for a test to say who was let in, never the credentials. */
export interface GitHttpRequest {
  readonly method: string;
  /** Path and query, e.g. `/demo.git/info/refs?service=git-upload-pack`. */
  readonly url: string;
  /** Whether the request carried an Authorization header at all, and whether it was the right one. */
  readonly authorization: 'none' | 'wrong' | 'right';
}

/** A smart-HTTP git server (git http-backend) that lets in only the one user and password it was given. */
export interface AuthenticatedGitHttpServer {
  /** The http:// URL of a bare repository under the server's root, e.g. `demo.git`. */
  urlOf(repositoryName: string): string;
  /** Every request so far, in order. */
  readonly requests: readonly GitHttpRequest[];
  stop(): Promise<void>;
}

/**
 * Serves every bare repository under `rootDir` over smart HTTP on 127.0.0.1 (a free port), fetch
 * and push, through `git http-backend` (CGI, git's own), and answers 401 with a Basic challenge to
 * any request without `Authorization: Basic base64(username:password)`: a customer's git host
 * that wants credentials, as GitLab, GitHub Enterprise and Gitea do.
 */
export async function startAuthenticatedGitHttpServer(rootDir: string, credentials: { readonly username: string; readonly password: string }): Promise<AuthenticatedGitHttpServer> {
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
  const requests: GitHttpRequest[] = [];
  const server = createServer((request, response) => {
    const header = request.headers.authorization;
    const authorization = header === undefined ? 'none' : header === expected ? 'right' : 'wrong';
    requests.push({ method: request.method ?? '', url: request.url ?? '', authorization });
    if (authorization !== 'right') {
      request.resume();
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="airlock-test-git"', 'Content-Type': 'text/plain' }).end('authentication required\n');
      return;
    }
    serveWithHttpBackend(rootDir, credentials.username, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    urlOf: (repositoryName) => `http://127.0.0.1:${port}/${repositoryName}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs one request through `git http-backend` and relays its CGI answer (headers, `Status:`, body). */
function serveWithHttpBackend(rootDir: string, user: string, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const backend = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: rootDir,
      GIT_HTTP_EXPORT_ALL: '1',
      // http-backend enables receive-pack (push) only for an authenticated user.
      REMOTE_USER: user,
      REMOTE_ADDR: '127.0.0.1',
      REQUEST_METHOD: request.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: request.headers['content-type'] ?? '',
      ...(request.headers['content-length'] === undefined ? {} : { CONTENT_LENGTH: request.headers['content-length'] }),
      ...(request.headers['content-encoding'] === undefined ? {} : { HTTP_CONTENT_ENCODING: request.headers['content-encoding'] }),
      ...(request.headers['git-protocol'] === undefined ? {} : { GIT_PROTOCOL: String(request.headers['git-protocol']) }),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  request.pipe(backend.stdin);
  backend.stdin.on('error', () => undefined);
  let head = Buffer.alloc(0);
  let headersSent = false;
  backend.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') : head.indexOf('\n\n');
    if (end < 0) return;
    const separator = head.indexOf('\r\n\r\n') >= 0 ? 4 : 2;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
      else response.setHeader(name, value);
    }
    response.writeHead(status);
    headersSent = true;
    response.write(head.subarray(end + separator));
  });
  backend.on('close', () => {
    if (!headersSent) response.writeHead(502).end('git http-backend printed no headers\n');
    else response.end();
  });
  backend.on('error', () => {
    if (!headersSent) response.writeHead(502).end('git http-backend did not start\n');
  });
}
