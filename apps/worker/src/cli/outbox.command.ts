import { join } from 'node:path';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { DELIVERY_OUTBOX_FILES, DeliveryOutboxReader, type DeliveryOutboxListing } from '../delivery/delivery-outbox';
import { CliExitError, EXIT_CODES } from './exit-codes';
import { printableLine } from './jobs.command';
import type { CliIo } from './worker.cli';

export interface OutboxListOptions {
  readonly config: string;
  readonly json?: boolean;
}

export interface OutboxShowOptions {
  readonly config: string;
}

/** One `outbox list` row, also its `--json` shape. */
interface ListRow {
  readonly jobId: string | null;
  readonly deliveryJobId: string;
  readonly generation: number | null;
  readonly attempt: number | null;
  readonly repoAlias: string | null;
  /** pending (delivered nowhere), pushed (the branch reached the git server), or corrupt. */
  readonly state: string;
  readonly failureCode: string | null;
  readonly createdAt: string | null;
  readonly mergeRequest: string | null;
  readonly directory: string;
}

/**
 * `outbox list`: the delivery outbox's entries, newest first, one per delivery branch (or a
 * JSON array with `--json`). An entry whose `record.json` cannot be read is listed as
 * `corrupt`, named on stderr, and makes the exit code 1.
 */
export function outboxListCommand(options: OutboxListOptions, io: CliIo): number {
  const config = loadWorkerConfig(options.config);
  const reader = new DeliveryOutboxReader(config.delivery.outboxDir);
  const listings = reader.list();
  const rows = listings.map(listRow);
  if (options.json) {
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
  } else if (rows.length === 0) {
    io.out(`no entries in the delivery outbox ${reader.directory}\n`);
  } else {
    const table = [
      ['JOB', 'GEN', 'ATTEMPT', 'REPO', 'STATE', 'FAILURE', 'CREATED', 'MERGE REQUEST'],
      ...rows.map((row) => [
        row.jobId ?? row.deliveryJobId,
        row.generation === null ? '-' : String(row.generation),
        row.attempt === null ? '-' : String(row.attempt),
        printableLine(row.repoAlias ?? '-'),
        row.state,
        row.failureCode ?? '-',
        row.createdAt ?? '-',
        printableLine(row.mergeRequest ?? '-'),
      ]),
    ];
    const widths = table[0]!.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
    io.out(table.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n') + '\n');
  }
  const corrupt = listings.filter((listing) => listing.problem !== undefined);
  for (const listing of corrupt) io.err(`${listing.problem!}\n`);
  return corrupt.length === 0 ? EXIT_CODES.ok : EXIT_CODES.failed;
}

/**
 * `outbox show <jobId>`: the entry of the branch the job delivered to (its own, or its
 * re-run chain's): its record, and the paths of its files with how to use them.
 */
export function outboxShowCommand(jobId: string, options: OutboxShowOptions, io: CliIo): number {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(jobId)) {
    throw new CliExitError(EXIT_CODES.configInvalid, `outbox show: expected a job id (as \`outbox list\` prints it), got ${JSON.stringify(jobId.slice(0, 200))}`);
  }
  const config = loadWorkerConfig(options.config);
  const listing = new DeliveryOutboxReader(config.delivery.outboxDir).find(jobId);
  if (listing === undefined) throw new CliExitError(EXIT_CODES.failed, `the delivery outbox ${config.delivery.outboxDir} has no entry for job ${jobId}`);
  if (listing.record === undefined) throw new CliExitError(EXIT_CODES.failed, listing.problem ?? `the entry ${listing.directory} cannot be read`);
  const { record, directory } = listing;
  const file = (name: string) => join(directory, name);
  const lines = [
    `job            ${record.jobId} attempt ${record.attempt}, generation ${record.generation} of job ${record.deliveryJobId}'s branch`,
    `state          ${record.state}${record.failureCode === null ? '' : ` ${record.failureCode}`}`,
    `repository     ${printableLine(record.repoAlias)}, base ${printableLine(record.baseRef)} at ${record.baseCommit}`,
    `branch         ${printableLine(record.branch)} at ${record.commit}`,
    `created        ${record.createdAt}`,
    `merge request  ${record.mergeRequest === null ? '-' : `${record.mergeRequest.number} ${printableLine(record.mergeRequest.webUrl)}`}`,
    `bundle         ${file(DELIVERY_OUTBOX_FILES.bundle)}  (git fetch <bundle> HEAD:${printableLine(record.branch)})`,
    `patch          ${file(DELIVERY_OUTBOX_FILES.patch)}  (git am <patch>)`,
    `request text   ${file(DELIVERY_OUTBOX_FILES.mergeRequest)}`,
    `record         ${file(DELIVERY_OUTBOX_FILES.record)}`,
  ];
  io.out(`${lines.join('\n')}\n`);
  return EXIT_CODES.ok;
}

function listRow(listing: DeliveryOutboxListing): ListRow {
  const { record } = listing;
  return {
    jobId: record?.jobId ?? null,
    deliveryJobId: listing.key,
    generation: record?.generation ?? null,
    attempt: record?.attempt ?? null,
    repoAlias: record?.repoAlias ?? null,
    state: record?.state ?? 'corrupt',
    failureCode: record?.failureCode ?? null,
    createdAt: record?.createdAt ?? null,
    mergeRequest: record?.mergeRequest?.webUrl ?? null,
    directory: listing.directory,
  };
}
