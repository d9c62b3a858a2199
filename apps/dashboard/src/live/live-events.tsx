import { createContext, use, useEffect, useRef, useState, type ReactNode } from 'react';

/** `job.changed`: a job's status or history changed; re-read it for the rest. */
export interface JobChangedEvent {
  readonly jobId: string;
  readonly status: string;
  readonly at: string;
}

/** `worker.changed`: a worker connected, disconnected, drained, was revoked or enrolled. */
export interface WorkerChangedEvent {
  readonly workerId: string;
  readonly change: string;
  readonly at: string;
}

interface LiveEventMap {
  'job.changed': JobChangedEvent;
  'worker.changed': WorkerChangedEvent;
  /**
   * The stream opened again after a gap: events in between are lost, so a view that follows
   * them reads its data again.
   */
  resync: Record<string, never>;
}

export type LiveEventType = keyof LiveEventMap;
export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

type Listener<Type extends LiveEventType> = (event: LiveEventMap[Type]) => void;
type ListenersByType = { [Type in LiveEventType]: Set<Listener<Type>> };

interface LiveEvents {
  readonly status: LiveStatus;
  subscribe<Type extends LiveEventType>(type: Type, listener: Listener<Type>): () => void;
}

const EVENTS_URL = '/api/v1/events';
const FIRST_RETRY_MS = 1_000;
const LONGEST_RETRY_MS = 30_000;

const LiveEventsContext = createContext<LiveEvents | null>(null);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function parseJobChanged(data: unknown): JobChangedEvent | null {
  return isRecord(data) && typeof data['jobId'] === 'string' && typeof data['status'] === 'string' && typeof data['at'] === 'string'
    ? { jobId: data['jobId'], status: data['status'], at: data['at'] }
    : null;
}

function parseWorkerChanged(data: unknown): WorkerChangedEvent | null {
  return isRecord(data) && typeof data['workerId'] === 'string' && typeof data['change'] === 'string' && typeof data['at'] === 'string'
    ? { workerId: data['workerId'], change: data['change'], at: data['at'] }
    : null;
}

function parseData(message: MessageEvent): unknown {
  try {
    return typeof message.data === 'string' ? JSON.parse(message.data) : null;
  } catch {
    return null;
  }
}

/**
 * One event stream (`GET /api/v1/events`, server-sent events) for the whole signed-in app.
 * The browser reconnects by itself after a dropped connection; when the server refuses the
 * stream outright (EventSource gives up), this opens it again with a growing pause.
 */
export function LiveEventsProvider({ children }: { readonly children: ReactNode }) {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const listeners = useRef<ListenersByType>({ 'job.changed': new Set(), 'worker.changed': new Set(), resync: new Set() });

  useEffect(() => {
    let source: EventSource | null = null;
    let retryTimer: number | undefined;
    let retryMs = FIRST_RETRY_MS;
    let openedBefore = false;
    let stopped = false;

    const emit = <Type extends LiveEventType>(type: Type, event: LiveEventMap[Type]) => {
      const forType: Set<Listener<Type>> = listeners.current[type];
      for (const listener of [...forType]) listener(event);
    };

    const open = () => {
      source = new EventSource(EVENTS_URL);
      source.addEventListener('open', () => {
        setStatus('live');
        retryMs = FIRST_RETRY_MS;
        if (openedBefore) emit('resync', {});
        openedBefore = true;
      });
      source.addEventListener('error', () => {
        if (stopped) return;
        setStatus('reconnecting');
        if (source?.readyState === EventSource.CLOSED) {
          source.close();
          retryTimer = window.setTimeout(open, retryMs);
          retryMs = Math.min(retryMs * 2, LONGEST_RETRY_MS);
        }
      });
      source.addEventListener('job.changed', (message) => {
        const event = parseJobChanged(parseData(message));
        if (event) emit('job.changed', event);
      });
      source.addEventListener('worker.changed', (message) => {
        const event = parseWorkerChanged(parseData(message));
        if (event) emit('worker.changed', event);
      });
    };

    open();
    return () => {
      stopped = true;
      window.clearTimeout(retryTimer);
      source?.close();
    };
  }, []);

  const [value] = useState<Omit<LiveEvents, 'status'>>(() => ({
    subscribe<Type extends LiveEventType>(type: Type, listener: Listener<Type>) {
      const forType: Set<Listener<Type>> = listeners.current[type];
      forType.add(listener);
      return () => {
        forType.delete(listener);
      };
    },
  }));

  return <LiveEventsContext value={{ ...value, status }}>{children}</LiveEventsContext>;
}

function useLiveEvents(): LiveEvents {
  const value = use(LiveEventsContext);
  if (!value) throw new Error('live events used outside LiveEventsProvider');
  return value;
}

export function useLiveStatus(): LiveStatus {
  return useLiveEvents().status;
}

/** Calls `listener` (its latest version) on every event of `type` while the component is mounted. */
export function useLiveEvent<Type extends LiveEventType>(type: Type, listener: Listener<Type>): void {
  const { subscribe } = useLiveEvents();
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => subscribe(type, (event) => latest.current(event)), [subscribe, type]);
}
