import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where this machine's pip config points: PEP 503 trees and a flat folder of wheels. */
export const MACHINE_SIMPLE_INDEX_DIRS: readonly string[] = ['/opt/pypi/simple', '/opt/pypi-more/simple'];
export const MACHINE_FIND_LINKS_DIRS: readonly string[] = ['/opt/wheels'];

export interface PythonIndexOptions {
  /** Local PEP 503 trees (`<dir>/<project>/index.html` linking to the files). */
  readonly simpleIndexDirs?: readonly string[];
  /** Flat folders of wheels and sdists, as pip's `--find-links` takes them. */
  readonly findLinksDirs?: readonly string[];
  /** Each request is appended here as one line (`<status> <method> <path>`), when given. */
  readonly logFile?: string;
}

/** A PEP 503 "simple" index on 127.0.0.1 serving the distributions of the local index. */
export interface PythonIndex {
  /** The index URL with its trailing slash, as `pip --index-url` and `PIP_INDEX_URL` take it. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Number of projects it lists. */
  readonly projectCount: number;
  /** File names served so far, in order, so a test can show pip fetched through this index. */
  servedFiles(): readonly string[];
  stop(): Promise<void>;
}

interface DistributionFile {
  readonly filename: string;
  readonly absolutePath: string;
  /** Known from the local index's link fragment; computed on first listing for find-links files. */
  sha256: string | undefined;
  readonly requiresPython: string | undefined;
}

/** PEP 503: runs of `-`, `_` and `.` become one `-`, and the name is lower-cased. */
export function normalizeProjectName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/**
 * The project a distribution file belongs to, from its name: a wheel's first dash-separated
 * part (PEP 427 escapes dashes in names), an sdist's name up to the dash before its version.
 */
export function projectOfDistributionFile(filename: string): string | undefined {
  if (filename.endsWith('.whl')) return filename.split('-')[0];
  const sdist = /^(.+?)-\d[^-]*\.(?:tar\.gz|tar\.bz2|tgz|zip|tar)$/.exec(filename);
  return sdist?.[1];
}

const htmlEscape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const htmlUnescape = (text: string): string =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** Reads the anchors of one local project page and resolves them to files on disk. */
function readProjectPage(pageFile: string): DistributionFile[] {
  const files: DistributionFile[] = [];
  const pageUrl = new URL(`file://${pageFile}`);
  for (const anchor of readFileSync(pageFile, 'utf8').matchAll(/<a\s([^>]*)>/gi)) {
    const attributes = anchor[1] ?? '';
    const href = /href="([^"]*)"/i.exec(attributes)?.[1];
    if (!href) continue;
    const target = new URL(htmlUnescape(href), pageUrl);
    if (target.protocol !== 'file:') continue;
    const absolutePath = fileURLToPath(target);
    const sha256 = /^#sha256=([0-9a-f]{64})$/i.exec(target.hash)?.[1]?.toLowerCase();
    const requiresPython = /data-requires-python="([^"]*)"/i.exec(attributes)?.[1];
    files.push({
      filename: decodeURIComponent(target.pathname.split('/').pop() ?? ''),
      absolutePath,
      sha256,
      requiresPython: requiresPython === undefined ? undefined : htmlUnescape(requiresPython),
    });
  }
  return files;
}

/** Gathers every project of the local trees and folders into one catalog, first source winning per file name. */
function buildCatalog(simpleIndexDirs: readonly string[], findLinksDirs: readonly string[]): Map<string, Map<string, DistributionFile>> {
  const catalog = new Map<string, Map<string, DistributionFile>>();
  const add = (project: string, file: DistributionFile): void => {
    const normalized = normalizeProjectName(project);
    let files = catalog.get(normalized);
    if (!files) catalog.set(normalized, (files = new Map()));
    if (!files.has(file.filename) && existsSync(file.absolutePath)) files.set(file.filename, file);
  };
  for (const dir of simpleIndexDirs.filter(existsSync)) {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const pageFile = join(dir, entry.name, 'index.html');
      if (!entry.isDirectory() || !existsSync(pageFile)) continue;
      for (const file of readProjectPage(pageFile)) add(entry.name, file);
    }
  }
  for (const dir of findLinksDirs.filter(existsSync)) {
    for (const filename of readdirSync(dir)) {
      const project = projectOfDistributionFile(filename);
      if (project) add(project, { filename, absolutePath: resolve(dir, filename), sha256: undefined, requiresPython: undefined });
    }
  }
  for (const [project, files] of catalog) if (files.size === 0) catalog.delete(project);
  return catalog;
}

function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

const page = (title: string, anchors: readonly string[]): string =>
  `<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"><title>${htmlEscape(title)}</title></head><body>\n${anchors.join('\n')}\n</body></html>\n`;

/**
 * Serves the machine's local Python index over HTTP as a PEP 503 simple index (the stand-in
 * for a customer's PyPI mirror, e.g. devpi or Artifactory): `/simple/` lists the projects,
 * `/simple/<normalized-name>/` links each file with its `#sha256=` fragment (names not
 * normalized are redirected), `/files/<project>/<file>` streams the file.
 *
 * The server runs in this process, so whoever drives pip against it must spawn pip
 * asynchronously: a synchronous spawn blocks the event loop that answers pip.
 */
export async function startPythonIndex(options: PythonIndexOptions = {}): Promise<PythonIndex> {
  const simpleIndexDirs = options.simpleIndexDirs ?? MACHINE_SIMPLE_INDEX_DIRS;
  const findLinksDirs = options.findLinksDirs ?? MACHINE_FIND_LINKS_DIRS;
  const present = [...simpleIndexDirs, ...findLinksDirs].filter(existsSync);
  if (present.length === 0) {
    throw new Error(
      `no local Python index to serve: none of ${[...simpleIndexDirs, ...findLinksDirs].join(', ')} exists ` +
        '(pass simpleIndexDirs / findLinksDirs naming a PEP 503 tree or a folder of wheels)',
    );
  }
  const catalog = buildCatalog(simpleIndexDirs, findLinksDirs);
  if (catalog.size === 0) throw new Error(`the local Python index at ${present.join(', ')} lists no distribution files`);
  const served: string[] = [];

  const send = (response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...headers });
    response.end(body);
  };

  const projectPage = async (project: string, files: Map<string, DistributionFile>): Promise<string> => {
    const anchors: string[] = [];
    for (const file of [...files.values()].sort((a, b) => a.filename.localeCompare(b.filename))) {
      file.sha256 ??= await sha256OfFile(file.absolutePath);
      const href = `../../files/${encodeURIComponent(project)}/${encodeURIComponent(file.filename)}#sha256=${file.sha256}`;
      const requiresPython = file.requiresPython === undefined ? '' : ` data-requires-python="${htmlEscape(file.requiresPython)}"`;
      anchors.push(`<a href="${htmlEscape(href)}"${requiresPython}>${htmlEscape(file.filename)}</a>`);
    }
    return page(`Links for ${project}`, anchors);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<number> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
      return 405;
    }
    const path = new URL(request.url ?? '/', 'http://index.invalid').pathname;
    if (path === '/' || path === '/simple') {
      send(response, 301, '', { location: '/simple/' });
      return 301;
    }
    if (path === '/simple/') {
      const anchors = [...catalog.keys()].sort().map((project) => `<a href="${htmlEscape(project)}/">${htmlEscape(project)}</a>`);
      send(response, 200, page('Simple index', anchors));
      return 200;
    }
    const projectMatch = /^\/simple\/([^/]+)\/?$/.exec(path);
    if (projectMatch) {
      const requested = decodeURIComponent(projectMatch[1] ?? '');
      const project = normalizeProjectName(requested);
      const files = catalog.get(project);
      if (!files) {
        send(response, 404, `no project ${htmlEscape(requested)}\n`);
        return 404;
      }
      if (requested !== project || !path.endsWith('/')) {
        send(response, 301, '', { location: `/simple/${project}/` });
        return 301;
      }
      send(response, 200, await projectPage(project, files));
      return 200;
    }
    const fileMatch = /^\/files\/([^/]+)\/([^/]+)$/.exec(path);
    const file = fileMatch ? catalog.get(decodeURIComponent(fileMatch[1] ?? ''))?.get(decodeURIComponent(fileMatch[2] ?? '')) : undefined;
    if (!file) {
      send(response, 404, 'not found\n');
      return 404;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(statSync(file.absolutePath).size) });
    if (request.method === 'HEAD') {
      response.end();
      return 200;
    }
    served.push(file.filename);
    await new Promise<void>((resolveStream, reject) => {
      createReadStream(file.absolutePath).on('error', reject).pipe(response).on('finish', resolveStream).on('error', reject);
    });
    return 200;
  };

  const server = createServer((request, response) => {
    handle(request, response).then(
      (status) => {
        if (options.logFile) appendFileSync(options.logFile, `${status} ${request.method} ${request.url}\n`);
      },
      (error: unknown) => {
        if (options.logFile) appendFileSync(options.logFile, `500 ${request.method} ${request.url} ${String(error)}\n`);
        if (!response.headersSent) send(response, 500, 'internal error\n');
        else response.destroy();
      },
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    host: '127.0.0.1',
    port,
    projectCount: catalog.size,
    servedFiles: () => [...served],
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

