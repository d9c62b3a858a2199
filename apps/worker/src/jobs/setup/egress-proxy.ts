import { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import { type Socket, connect } from 'node:net';

/** Bounds of one egress proxy; every connection the sandbox opens costs the worker a socket or two. */
export interface EgressProxyLimits {
  /** Connections accepted at once from the sandbox; more are dropped. */
  readonly maxConnections: number;
  /** A connection (either side of a tunnel, a request or response) with no byte for this long is closed. */
  readonly idleTimeoutMs: number;
  /** How long connecting to a mirror may take. */
  readonly connectTimeoutMs: number;
  /** Largest request head (request line and headers) accepted; larger is answered 431. */
  readonly maxHeaderBytes: number;
  /** How long a client may take to send a request head. */
  readonly headersTimeoutMs: number;
}

export const DEFAULT_EGRESS_PROXY_LIMITS: EgressProxyLimits = {
  maxConnections: 64,
  idleTimeoutMs: 120_000,
  connectTimeoutMs: 30_000,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 30_000,
};

export interface EgressProxyOptions {
  /** Where to listen: a unix socket path (the sandbox gets it bind-mounted; it has no network). */
  readonly socketPath: string;
  /** Exact `host:port` pairs (lower-case; IPv6 in brackets) that may be reached: `config.setup.mirrors`. */
  readonly allowed: readonly string[];
  /** Told of each refused target (`host:port`, or `invalid`), for a local log line; never resolved or connected to. */
  readonly onRefused: (target: string) => void;
  readonly limits?: Partial<EgressProxyLimits>;
}

/** `host:port` with a DNS name or IPv4 address, or an IPv6 address in brackets; what CONNECT names and mirrors are. */
const AUTHORITY = /^([a-z0-9.-]{1,253}|\[[0-9a-f:.]{2,45}\]):(\d{1,5})$/;

/** Headers that describe one hop (RFC 9110 §7.6.1) or the proxy itself; never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * The worker's egress proxy for one setup run: an HTTP proxy on a unix socket that reaches
 * exactly the package mirrors the worker's config lists and nothing else. It speaks
 * `CONNECT host:port` (for https, a byte tunnel once allowed) and absolute-form plain HTTP
 * (`GET http://host:port/path`, forwarded one request at a time). A target that is not an
 * exact `host:port` pair of the list is answered 403 before any name is resolved or any
 * connection made — the worker host's own loopback services included.
 *
 * It runs on the host, outside the sandbox; the sandbox reaches it only through the socket
 * (see `egress-relay.ts`), so the kernel, not an environment variable, decides what setup
 * can reach.
 */
export class EgressProxy {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly allowed: ReadonlySet<string>,
    private readonly limits: EgressProxyLimits,
    private readonly onRefused: (target: string) => void,
  ) {}

  /** Listens on `options.socketPath` (which must not exist yet) and resolves once it accepts connections. */
  static async start(options: EgressProxyOptions): Promise<EgressProxy> {
    const limits = { ...DEFAULT_EGRESS_PROXY_LIMITS, ...options.limits };
    const server = createServer({ maxHeaderSize: limits.maxHeaderBytes, headersTimeout: limits.headersTimeoutMs, requestTimeout: 0, keepAliveTimeout: 5_000 });
    const proxy = new EgressProxy(server, new Set(options.allowed.map((entry) => entry.toLowerCase())), limits, options.onRefused);
    server.maxConnections = limits.maxConnections;
    server.on('connection', (socket: Socket) => proxy.track(socket));
    server.on('request', (request: IncomingMessage, response: ServerResponse) => proxy.forward(request, response));
    server.on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => proxy.tunnel(request, client, head));
    server.on('clientError', (_error, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** Stops listening and cuts every connection still open, tunnels included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /**
   * Keeps `socket` to cut on close, and bounds its silence: connectTimeoutMs while it
   * connects to a mirror (`connecting`), idleTimeoutMs once it carries bytes.
   */
  private track(socket: Socket, connecting = false): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('timeout', () => socket.destroy(new Error('egress connection idle')));
    if (!connecting) {
      socket.setTimeout(this.limits.idleTimeoutMs);
      return;
    }
    socket.setTimeout(this.limits.connectTimeoutMs);
    socket.once('connect', () => socket.setTimeout(this.limits.idleTimeoutMs));
  }

  /** Whether `authority` may be reached; tells `onRefused` when not. */
  private permits(authority: string): boolean {
    if (this.allowed.has(authority)) return true;
    this.onRefused(authority);
    return false;
  }

  /** CONNECT host:port: a byte tunnel to an allowed mirror. */
  private tunnel(request: IncomingMessage, client: Socket, head: Buffer): void {
    const target = parseAuthority((request.url ?? '').toLowerCase());
    if (target === undefined) {
      this.onRefused('invalid');
      client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    if (!this.permits(target.authority)) {
      client.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    let connected = false;
    const upstream = connect({ host: target.host, port: target.port }, () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    this.track(upstream, true);
    upstream.once('error', () => {
      if (!connected && client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else client.destroy();
    });
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
    client.once('error', () => upstream.destroy());
  }

  /** Absolute-form plain HTTP (`GET http://host:port/path`): one request forwarded to an allowed mirror. */
  private forward(request: IncomingMessage, response: ServerResponse): void {
    const target = parseAbsoluteHttpUrl(request.url ?? '');
    if (target === undefined) {
      // Origin-form or https:// in absolute form: not what a client of an HTTP proxy sends for plain HTTP.
      this.onRefused('invalid');
      response.writeHead(400, { connection: 'close', 'content-length': '0' }).end();
      return;
    }
    if (!this.permits(target.authority)) {
      response.writeHead(403, { connection: 'close', 'content-length': '0' }).end();
      return;
    }
    const upstream = httpRequest({
      host: target.host,
      port: target.port,
      method: request.method,
      path: target.path,
      headers: { ...forwardedHeaders(request.headers), host: request.headers.host ?? target.authority },
      agent: false,
      setHost: false,
    });
    upstream.once('socket', (socket: Socket) => this.track(socket, true));
    upstream.once('response', (answer: IncomingMessage) => {
      response.writeHead(answer.statusCode ?? 502, forwardedHeaders(answer.headers));
      answer.pipe(response);
      answer.once('error', () => response.destroy());
    });
    upstream.once('error', () => {
      if (!response.headersSent) response.writeHead(502, { connection: 'close', 'content-length': '0' }).end();
      else response.destroy();
    });
    request.once('error', () => upstream.destroy());
    response.once('close', () => upstream.destroy());
    request.pipe(upstream);
  }
}

interface Authority {
  /** `host:port`, lower-case, IPv6 in brackets: as mirrors are listed. */
  readonly authority: string;
  /** The host to connect to (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

/** Parses a CONNECT target; undefined for anything that is not exactly `host:port` with a port from 1 to 65535. */
export function parseAuthority(value: string): Authority | undefined {
  const match = AUTHORITY.exec(value);
  if (!match) return undefined;
  const [, host = '', portText = ''] = match;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { authority: `${host}:${port}`, host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}

/** Parses an absolute-form `http://` request target into the mirror it names and the origin-form path. */
function parseAbsoluteHttpUrl(value: string): (Authority & { readonly path: string }) | undefined {
  if (!/^http:\/\//i.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const target = parseAuthority(`${url.hostname}:${url.port === '' ? '80' : url.port}`);
  return target && { ...target, path: `${url.pathname}${url.search}` };
}

/** The end-to-end headers of a message, for the next hop. */
function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  const forwarded: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    forwarded[name] = value;
  }
  return forwarded;
}
