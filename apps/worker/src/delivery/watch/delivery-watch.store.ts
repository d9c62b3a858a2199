import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { rewriteDurably } from '@airlock/durable-file';
import type { DeliveryOutcome__Output } from '@airlock/protocol';
import type { Logger } from '../../logging/json-logger';
import type { WatchedOutcome } from './delivery-outcome';

/** A delivery job id, as file names take it: a lower-case UUID, nothing that could climb out of the folder. */
const DELIVERY_JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SUFFIX = '.json';

/** What a watch starts from: the request DELIVER opened for a chain, on a repository of the catalog. */
export interface DeliveryWatchRegistration {
  /** The chain's first job (DeliveryOutcome.delivery_job_id): names the file. */
  readonly deliveryJobId: string;
  readonly repoAlias: string;
  /** The request's number within its project. Local only, like the file. */
  readonly number: number;
  /** Epoch milliseconds. */
  readonly registeredAt: number;
}

/** A watch as its file holds it. */
export interface DeliveryWatch extends DeliveryWatchRegistration {
  /** The outcome last computed, before the metadata level; null until the first poll. */
  readonly latest: WatchedOutcome | null;
  /** The outcome last sent, exactly as sent (after the metadata level); null until then. */
  readonly sent: DeliveryOutcome__Output | null;
  /** When it was sent, epoch milliseconds; null until then. */
  readonly sentAt: number | null;
  /**
   * The last send went out on a stream that may have ended before it arrived: it goes again
   * after the next Welcome (the control plane upserts, so twice is harmless).
   */
  readonly resend: boolean;
  /** The final outcome was sent: the watch has ended, and its file stays until pruned. */
  readonly final: boolean;
}

/**
 * The delivery watches, one file per chain at `<dir>/<deliveryJobId>.json`, each replaced
 * atomically and fsync'd (`rewriteDurably`), so a crash leaves the old watch or the new one.
 * Local only: the files name the repository and the request, which never cross. One daemon
 * writes them, from one event loop, synchronously, so the fixed temporary names never race.
 */
export class DeliveryWatchStore {
  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Starts watching the request, unless the chain's watch already follows this very request (a
   * re-run updated it): then that watch, with what it sent, stays. A watch of an earlier request
   * of the chain (closed, so a re-run opened another) is replaced. Returns whether it started.
   */
  register(registration: DeliveryWatchRegistration): boolean {
    const existing = this.get(registration.deliveryJobId);
    if (existing !== undefined && existing.number === registration.number) return false;
    this.put({ ...registration, latest: null, sent: null, sentAt: null, resend: false, final: false });
    return true;
  }

  /** The watch of a chain, if there is one readable. */
  get(deliveryJobId: string): DeliveryWatch | undefined {
    let text: string;
    try {
      text = readFileSync(this.fileOf(deliveryJobId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const watch = parseWatch(text, deliveryJobId);
    if (watch === undefined) this.logger.warn('delivery-watch-unreadable', { deliveryJobId });
    return watch;
  }

  /** Every readable watch, in file name order; an unreadable one is logged and left alone. */
  all(): DeliveryWatch[] {
    return readdirSync(this.dir)
      .filter((name) => name.endsWith(SUFFIX) && DELIVERY_JOB_ID.test(name.slice(0, -SUFFIX.length)))
      .sort()
      .flatMap((name) => this.get(name.slice(0, -SUFFIX.length)) ?? []);
  }

  put(watch: DeliveryWatch): void {
    rewriteDurably(this.fileOf(watch.deliveryJobId), Buffer.from(`${JSON.stringify(watch)}\n`, 'utf8'));
  }

  /** Reads the watch, changes it and writes it back at once: what a slow forge poll learnt lands on the watch as it is now. */
  update(deliveryJobId: string, change: (watch: DeliveryWatch) => DeliveryWatch): DeliveryWatch | undefined {
    const watch = this.get(deliveryJobId);
    if (watch === undefined) return undefined;
    const changed = change(watch);
    this.put(changed);
    return changed;
  }

  remove(deliveryJobId: string): void {
    rmSync(this.fileOf(deliveryJobId), { force: true });
  }

  private fileOf(deliveryJobId: string): string {
    if (!DELIVERY_JOB_ID.test(deliveryJobId)) throw new RangeError('a delivery watch needs a delivery job id that is a UUID');
    return join(this.dir, `${deliveryJobId}${SUFFIX}`);
  }
}

/** A watch file's content, checked as far as the watcher relies on it; undefined when it is not one. */
function parseWatch(text: string, deliveryJobId: string): DeliveryWatch | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const watch = value as Record<string, unknown>;
  const isTime = (field: unknown) => typeof field === 'number' && Number.isSafeInteger(field) && field >= 0;
  const isObjectOrNull = (field: unknown) => field === null || (typeof field === 'object' && !Array.isArray(field));
  const valid =
    watch['deliveryJobId'] === deliveryJobId &&
    typeof watch['repoAlias'] === 'string' &&
    typeof watch['number'] === 'number' &&
    Number.isSafeInteger(watch['number']) &&
    watch['number'] > 0 &&
    isTime(watch['registeredAt']) &&
    isObjectOrNull(watch['latest']) &&
    isObjectOrNull(watch['sent']) &&
    (watch['sentAt'] === null || isTime(watch['sentAt'])) &&
    typeof watch['resend'] === 'boolean' &&
    typeof watch['final'] === 'boolean';
  return valid ? (watch as unknown as DeliveryWatch) : undefined;
}
