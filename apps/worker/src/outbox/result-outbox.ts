import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { JobResult__Output } from '@airlock/protocol';

/**
 * A result as the file holds it, MACs as hex; one written by an older worker has no
 * model_usage, delivery, ticket_ref_mac or review.
 */
type StoredResult = Omit<JobResult__Output, 'changeMac' | 'deliveryMac' | 'ticketRefMac' | 'modelUsage' | 'delivery' | 'review'> & {
  changeMac: string;
  deliveryMac: string;
  ticketRefMac?: string;
  modelUsage?: JobResult__Output['modelUsage'];
  delivery?: JobResult__Output['delivery'];
  review?: JobResult__Output['review'];
};

/**
 * Results that were produced but not yet acknowledged. A result is written (and fsync'd)
 * here before it is sent and removed on ResultAck, so a crash or a dropped stream never
 * loses a finished job: everything still here is re-sent after the next Welcome.
 */
export class ResultOutbox {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Stores a result durably; replaces any earlier copy for the same attempt. */
  put(result: JobResult__Output): void {
    const file = this.fileFor(result.attempt?.jobId ?? '', result.attempt?.attempt ?? 0);
    const stored: StoredResult = {
      ...result,
      changeMac: result.changeMac.toString('hex'),
      deliveryMac: result.deliveryMac.toString('hex'),
      ticketRefMac: result.ticketRefMac.toString('hex'),
    };
    const temp = `${file}.tmp`;
    writeFileSync(temp, JSON.stringify(stored), { mode: 0o600 });
    const fd = openSync(temp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, file);
  }

  /** Drops an acknowledged result. Unknown attempts are ignored (the ack may be a duplicate). */
  remove(jobId: string, attempt: number): boolean {
    const file = this.fileFor(jobId, attempt);
    try {
      rmSync(file);
      return true;
    } catch {
      return false;
    }
  }

  /** Every unacknowledged result, oldest file name order. */
  pending(): JobResult__Output[] {
    return readdirSync(this.dir)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => {
        const stored = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as StoredResult;
        // A result queued before an upgrade still passes the outbound gate: absent fields claim nothing.
        return {
          ...stored,
          changeMac: Buffer.from(stored.changeMac, 'hex'),
          deliveryMac: Buffer.from(stored.deliveryMac, 'hex'),
          ticketRefMac: Buffer.from(stored.ticketRefMac ?? '', 'hex'),
          modelUsage: stored.modelUsage ?? [],
          delivery: stored.delivery ?? 'DELIVERY_UNSPECIFIED',
          review: stored.review ?? null,
        };
      });
  }

  private fileFor(jobId: string, attempt: number): string {
    // Job ids are validated UUIDs by the time a result exists; the check keeps the name a plain file name regardless.
    if (!/^[0-9a-f-]{36}$/.test(jobId)) throw new RangeError('result without a valid job id');
    return join(this.dir, `${jobId}-${attempt}.json`);
  }
}
