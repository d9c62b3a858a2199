import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fsyncDirectory } from '@airlock/durable-file';
import { z } from 'zod';
import type { GitRunner } from '../git/git-runner';
import { KeyedLock } from '../jobs/workspace/keyed.lock';
import { compareDeliveryPositions, type DeliveryPosition } from './delivery-target';
import type { MergeRequestText } from './merge-request.body';

/** The files of an outbox entry. */
export const DELIVERY_OUTBOX_FILES = {
  /** `git fetch <bundle> HEAD:<branch>` in a clone that has the base commit restores the change. */
  bundle: 'change.bundle',
  /** The commit as `git format-patch` writes it, for `git am`. */
  patch: 'change.patch',
  /** The merge request's title and body, as proposed or as they would have been. */
  mergeRequest: 'merge-request.md',
  record: 'record.json',
} as const;

const GIT_TIMEOUT_MS = 300_000;
/** A delivery key as it names a directory: the job ids the control plane issues (UUIDs), never a path. */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
/** Where entries are written, each in a directory of its own, before their key points at them. */
const ENTRIES_DIRECTORY = '.entries';
/** A link made beside `<key>` and renamed over it: the one step that switches a key to its new entry. */
const LINK_PREFIX = '.link-';
const commitId = z.string().regex(/^[0-9a-f]{40,64}$/);

const recordSchema = z.object({
  version: z.literal(1),
  jobId: z.string().min(1),
  /** The job whose branch this is (the key of the entry). */
  deliveryJobId: z.string().min(1),
  generation: z.number().int().min(0),
  attempt: z.number().int().min(1),
  repoAlias: z.string(),
  baseRef: z.string(),
  baseCommit: commitId,
  commit: commitId,
  branch: z.string().min(1),
  createdAt: z.iso.datetime(),
  /** `pending`: delivered nowhere; `pushed`: the branch reached the git server. */
  state: z.enum(['pending', 'pushed']),
  /** Why delivery failed (a FailureCode name), or null when it did not. */
  failureCode: z.string().nullable(),
  mergeRequest: z.object({ number: z.number().int().min(1), webUrl: z.string() }).nullable(),
});

/** An outbox entry's `record.json`. */
export type DeliveryOutboxRecord = z.infer<typeof recordSchema>;

/** What the delivery of one attempt puts in the outbox; the worktree holds its commit as HEAD. */
export interface DeliveryOutboxEntry {
  readonly record: Omit<DeliveryOutboxRecord, 'version' | 'createdAt'>;
  readonly worktree: string;
  readonly mergeRequest: MergeRequestText;
  readonly signal: AbortSignal;
}

/** Whether `put` kept the entry, or found a later attempt's entry for the branch and kept that. */
export type DeliveryOutboxPut = { readonly kept: true; readonly directory: string } | { readonly kept: false; readonly newer: DeliveryPosition };

/** An entry as `list` finds it: its record, or why that could not be read. */
export interface DeliveryOutboxListing {
  readonly key: string;
  readonly directory: string;
  readonly record?: DeliveryOutboxRecord;
  readonly problem?: string;
}

/**
 * Reads the delivery outbox (see DeliveryOutbox): what `outbox list` and `outbox show`
 * print, beside a running daemon. It sees whole entries only, one per branch.
 */
export class DeliveryOutboxReader {
  constructor(readonly directory: string) {}

  /** Every branch's entry, newest first. */
  list(): DeliveryOutboxListing[] {
    if (!existsSync(this.directory)) return [];
    const keys = readdirSync(this.directory).filter((name) => KEY_PATTERN.test(name));
    const listings = keys.map((key): DeliveryOutboxListing => {
      const directory = join(this.directory, key);
      try {
        return { key, directory, record: this.record(key) };
      } catch (error) {
        const why = error instanceof z.ZodError ? 'a field is missing or invalid' : (error as Error).message;
        return { key, directory, problem: `${join(directory, DELIVERY_OUTBOX_FILES.record)} cannot be read: ${why}` };
      }
    });
    return listings.sort((a, b) => (b.record?.createdAt ?? '').localeCompare(a.record?.createdAt ?? ''));
  }

  /** The entry of the branch job `jobId` delivered to: the job's own, or its re-run chain's. */
  find(jobId: string): DeliveryOutboxListing | undefined {
    return this.list().find((listing) => listing.key === jobId || listing.record?.jobId === jobId);
  }

  /** The record of the key's entry; throws when there is none or it cannot be read. */
  protected record(key: string): DeliveryOutboxRecord {
    return recordSchema.parse(JSON.parse(readFileSync(join(this.directory, key, DELIVERY_OUTBOX_FILES.record), 'utf8')));
  }
}

/**
 * The delivery outbox: changes kept inside the network as a git bundle, a patch and the
 * merge request's text, with a record of where they went — every change of a repository
 * without a push URL or forge, and every change a push or forge could not take.
 *
 * One entry per delivery branch, at `<dir>/<key>/`; a later attempt's entry replaces an
 * earlier one, an earlier one never replaces a later one. An entry is written whole, and
 * fsync'd, in a directory of its own under `<dir>/.entries/`; then `<key>`, a symbolic link
 * to it, is replaced by renaming a new link over it. So a crash leaves the key at the
 * previous entry or the new one, never half of one, and what it left behind (a
 * half-written directory, a replaced entry) goes at the next write of the key. Directories
 * are 0700, files 0600. One process writes an outbox; `put`s of one key are serialised
 * within it.
 */
export class DeliveryOutbox extends DeliveryOutboxReader {
  private readonly lock = new KeyedLock();

  constructor(
    directory: string,
    private readonly git: Pick<GitRunner, 'run'>,
    private readonly now: () => number = Date.now,
  ) {
    super(directory);
  }

  /** Keeps an attempt's change unless the branch's entry is a later attempt's. */
  async put(entry: DeliveryOutboxEntry): Promise<DeliveryOutboxPut> {
    const key = entry.record.deliveryJobId;
    if (!KEY_PATTERN.test(key)) throw new RangeError('the delivery key is not a job id');
    return this.lock.run(key, async () => {
      const entries = join(this.directory, ENTRIES_DIRECTORY);
      mkdirSync(entries, { recursive: true, mode: 0o700 });
      const position: DeliveryPosition = { generation: entry.record.generation, attempt: entry.record.attempt };
      const current = this.currentPosition(key);
      if (current !== undefined && compareDeliveryPositions(current, position) > 0) return { kept: false, newer: current };
      const written = mkdtempSync(join(entries, `${key}.`));
      try {
        await this.writeEntry(written, entry);
      } catch (error) {
        rmSync(written, { recursive: true, force: true });
        throw error;
      }
      fsyncDirectory(entries);
      const link = join(this.directory, `${LINK_PREFIX}${basename(written)}`);
      symlinkSync(join(ENTRIES_DIRECTORY, basename(written)), link);
      renameSync(link, join(this.directory, key));
      fsyncDirectory(this.directory);
      this.removeAllBut(key, basename(written));
      return { kept: true, directory: join(this.directory, key) };
    });
  }

  /** The position of the key's entry; none when it has none, or one whose record cannot be read (a new entry may replace that). */
  private currentPosition(key: string): DeliveryPosition | undefined {
    try {
      const { generation, attempt } = this.record(key);
      return { generation, attempt };
    } catch {
      return undefined;
    }
  }

  /** Removes the key's entries and links but the one it points at: replaced ones, and what a crash left. */
  private removeAllBut(key: string, kept: string): void {
    const entries = join(this.directory, ENTRIES_DIRECTORY);
    for (const name of readdirSync(entries)) {
      if (name.startsWith(`${key}.`) && name !== kept) rmSync(join(entries, name), { recursive: true, force: true });
    }
    for (const name of readdirSync(this.directory)) {
      if (name.startsWith(`${LINK_PREFIX}${key}.`)) rmSync(join(this.directory, name), { force: true });
    }
  }

  private async writeEntry(directory: string, entry: DeliveryOutboxEntry): Promise<void> {
    const { worktree, signal, record } = entry;
    const git = (args: string[]) => this.git.run(args, { cwd: worktree, signal, timeoutMs: GIT_TIMEOUT_MS });
    const bundle = join(directory, DELIVERY_OUTBOX_FILES.bundle);
    // HEAD by name, so that `git fetch <bundle> HEAD:<branch>` restores it; the base commit is the prerequisite.
    await git(['bundle', 'create', '--quiet', bundle, 'HEAD', `^${record.baseCommit}`]);
    chmodSync(bundle, 0o600);
    fsyncFile(bundle);
    writeNewFile(join(directory, DELIVERY_OUTBOX_FILES.patch), (await git(['format-patch', '-1', '--stdout', 'HEAD'])).stdout);
    writeNewFile(join(directory, DELIVERY_OUTBOX_FILES.mergeRequest), `# ${entry.mergeRequest.title}\n\n${entry.mergeRequest.body}`);
    const stored: DeliveryOutboxRecord = { version: 1, ...record, createdAt: new Date(this.now()).toISOString() };
    writeNewFile(join(directory, DELIVERY_OUTBOX_FILES.record), `${JSON.stringify(stored, null, 2)}\n`);
    fsyncDirectory(directory);
  }
}

/** Creates `file` (0600; it must not exist) with `text`, on disk when this returns. */
function writeNewFile(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    const bytes = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
