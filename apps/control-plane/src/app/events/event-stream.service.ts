import type { ServerResponse } from 'node:http';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EVENT_BUS, type DashboardEvent, type EventBus } from './event-bus';
import { TooManyEventStreamsError } from './too-many-event-streams.error';

/** How long an EventSource waits before reconnecting after the stream ended, as the stream tells it. */
export const RECONNECT_DELAY_MS = 3_000;

/**
 * The most bytes a stream may hold unsent. A client that reads slower than events arrive
 * is cut off rather than buffered for without end; it reconnects and re-reads.
 */
export const MAX_UNSENT_BYTES = 256 * 1024;

/** The response headers of an event stream: no caching, and no proxy buffering that would hold events back. */
export const EVENT_STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;

/** What a stream sends for one event: the event without its tenant, which the subscriber knows. */
function frameOf(id: number, event: DashboardEvent): string {
  const { tenantId: _tenantId, ...data } = event;
  return `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The dashboard's live event streams (Server-Sent Events) on this replica: each one
 * subscribes to the event bus for its principal's tenant and writes what it hears. A
 * principal without `fleet:read` hears job events only. Streams are bounded in number per
 * tenant, in unsent bytes and in lifetime (so a revoked token or session stops listening
 * once its stream ends and the reconnect is refused); an idle stream sends a comment line
 * now and then, so that proxies do not take it for dead.
 */
@Injectable()
export class EventStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(EventStreamService.name);
  private readonly openByTenant = new Map<string, number>();
  /** How to end each open stream, for shutdown. */
  private readonly closers = new Set<() => void>();

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Opens a stream on the response, or throws before writing anything: TooManyEventStreamsError
   * past the tenant's bound, EventListenerLimitError if the bus refuses another listener.
   */
  open(principal: Principal, response: ServerResponse): void {
    const { tenantId } = principal;
    const { heartbeatIntervalMs, maxLifetimeMs, maxPerTenant } = this.config.eventStreams;
    const open = this.openByTenant.get(tenantId) ?? 0;
    if (open >= maxPerTenant) throw new TooManyEventStreamsError(maxPerTenant);
    const seesWorkers = principal.scopes.includes('fleet:read');

    let lastId = 0;
    let closed = false;
    // Subscribing may throw (the bus's own bound): before anything is counted, started or written.
    // The listener runs only on a later publish, once everything below exists.
    const unsubscribe = this.bus.subscribe(tenantId, (event) => {
      if (event.type === 'worker.changed' && !seesWorkers) return;
      lastId += 1;
      write(frameOf(lastId, event));
    });
    this.openByTenant.set(tenantId, open + 1);
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), heartbeatIntervalMs);
    const lifetime = setTimeout(() => {
      write(': the stream reached its maximum lifetime; reconnect\n\n');
      close('lifetime');
    }, maxLifetimeMs);
    // Open streams alone must not keep the process alive.
    heartbeat.unref();
    lifetime.unref();

    const close = (reason: string): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(lifetime);
      unsubscribe();
      const remaining = (this.openByTenant.get(tenantId) ?? 1) - 1;
      if (remaining > 0) this.openByTenant.set(tenantId, remaining);
      else this.openByTenant.delete(tenantId);
      this.closers.delete(closeForShutdown);
      if (!response.writableEnded) response.end();
      this.logger.log({ event: 'event_stream_closed', tenantId, principalKind: principal.kind, principalId: principal.id, reason, eventsSent: lastId });
    };
    const closeForShutdown = (): void => close('shutdown');
    this.closers.add(closeForShutdown);
    const write = (text: string): void => {
      if (closed || response.writableEnded || response.destroyed) return;
      response.write(text);
      if (response.writableLength > MAX_UNSENT_BYTES) {
        this.logger.warn({ event: 'event_stream_too_slow', tenantId, unsentBytes: response.writableLength });
        close('too slow');
      }
    };
    // 'close' on the response: the client went away, or the response ended (either side).
    response.on('close', () => close('client closed'));

    // The client may have gone while it was being authenticated; its 'close' is then past.
    if (response.destroyed || !response.socket || response.socket.destroyed) {
      close('client gone before the stream opened');
      return;
    }
    response.writeHead(200, EVENT_STREAM_HEADERS);
    write(`retry: ${RECONNECT_DELAY_MS}\n\n`);
    this.logger.log({ event: 'event_stream_opened', tenantId, principalKind: principal.kind, principalId: principal.id, workerEvents: seesWorkers });
  }

  /** Open streams of the tenant on this replica. */
  openStreams(tenantId: string): number {
    return this.openByTenant.get(tenantId) ?? 0;
  }

  /** Ends every open stream before the HTTP server closes, so clients see an end rather than a reset. */
  beforeApplicationShutdown(): void {
    for (const close of [...this.closers]) close();
  }
}
