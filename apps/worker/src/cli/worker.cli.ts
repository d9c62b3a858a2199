import { Command, CommanderError } from 'commander';
import { buildInfo, formatBuildInfo } from '@airlock/protocol';
import { EgressAuditLogCorruptError } from '../audit/egress-audit-log-corrupt.error';
import { WorkerConfigInvalidError } from '../config/worker-config-invalid.error';
import { WorkerNotEnrolledError } from '../identity/worker-identity.store';
import { PolicyBundleFileInvalidError } from '../policy/policy-bundle-file-invalid.error';
import { DEFAULT_LIST_LIMIT, jobsListCommand, jobsShowCommand, positiveInteger } from './jobs.command';
import { DEFAULT_EVALUATE_LAST } from './policy-evaluate.command';
import { CliExitError, EXIT_CODES } from './exit-codes';

/** Where the CLI writes: stdout for results, stderr for errors and warnings. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const processIo: CliIo = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

/**
 * Builds the `airlock-worker` command line; each action resolves with an exit code. A
 * command's module is imported when that command runs, so the daemon does not load the
 * code of enroll, doctor, audit, outbox, policy or secrets, nor they the daemon's.
 */
export function buildWorkerCli(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('airlock-worker')
    .description('Airlock worker: runs coding jobs inside your network and reports metadata only')
    // The version, and for a bundle the commit and build time it was built from.
    .version(formatBuildInfo(buildInfo()))
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  const wrap =
    <T>(action: (options: T) => Promise<number> | number) =>
    async (options: T) =>
      setExitCode(await action(options));

  program
    .command('enroll')
    .description('generate this worker key pair and enroll with a one-time token')
    .requiredOption('--config <file>', 'worker YAML config')
    .option('--token-file <file>', "a file holding the one-time enrollment token (aet_…): kept out of the command line, which other users' ps shows")
    .option('--token <token>', 'the one-time enrollment token itself (aet_…); prefer --token-file')
    .option('--force', 'enroll again, replacing the existing identity and key')
    .action(wrap(async (options: { config: string; token?: string; tokenFile?: string; force?: boolean }) => (await import('./enroll.command')).enrollCommand(options, io.out, io.err)));
  program
    .command('run')
    .description('run the worker daemon')
    .requiredOption('--config <file>', 'worker YAML config')
    .action(wrap(async (options: { config: string }) => (await import('./run.command')).runCommand(options)));
  program
    .command('doctor')
    .description('check config, identity, control plane, inference, git and disk')
    .requiredOption('--config <file>', 'worker YAML config')
    .action(wrap(async (options: { config: string }) => (await import('./doctor.command')).doctorCommand(options, io.out)));
  program
    .command('audit')
    .description('egress audit log tools')
    .command('verify')
    .description('verify the hash chain of the egress audit log')
    .requiredOption('--config <file>', 'worker YAML config')
    .option('--against <file>', "also check the log against the heads the control plane received (GET /api/v1/workers/{id}/ledger-heads, saved as JSON)")
    .action(wrap(async (options: { config: string; against?: string }) => (await import('./audit-verify.command')).auditVerifyCommand(options, io.out)));
  const jobs = program.command('jobs').description("the local record of every job: never sent upstream, readable while the daemon runs");
  jobs
    .command('list')
    .description('list the job records, newest first')
    .requiredOption('--config <file>', 'worker YAML config')
    .option('--json', 'print a JSON array instead of a table')
    .option('--limit <n>', `show at most n records (default ${DEFAULT_LIST_LIMIT})`, positiveInteger('--limit', 1_000_000))
    .action(wrap((options: { config: string; json?: boolean; limit?: number }) => jobsListCommand(options, io)));
  jobs
    .command('show')
    .description("show one attempt's record: its metadata, patches and logs, or with a flag that content in full")
    .argument('<id>', 'a job id (its newest attempt) or <jobId>-<attempt>')
    .requiredOption('--config <file>', 'worker YAML config')
    .option('--transcript', 'print every prompt, answer, tool call and note')
    .option('--patch <n>', 'print patch n as recorded (pipe it to git apply)', positiveInteger('--patch', 999))
    .option('--log <name>', 'print a log the phases kept (test, setup, baseline, …)')
    .action(async (id: string, options: { config: string; transcript?: boolean; patch?: number; log?: string }) => setExitCode(jobsShowCommand(id, options, io)));
  const outbox = program.command('outbox').description('the delivery outbox: changes kept inside the network as patch bundles, with where they went');
  outbox
    .command('list')
    .description('list the entries, newest first, one per delivery branch')
    .requiredOption('--config <file>', 'worker YAML config')
    .option('--json', 'print a JSON array instead of a table')
    .action(wrap(async (options: { config: string; json?: boolean }) => (await import('./outbox.command')).outboxListCommand(options, io)));
  outbox
    .command('show')
    .description("show the entry of a job's branch: its record and the paths of its bundle, patch and merge request text")
    .argument('<jobId>', 'the job id (or the id of the first job of its re-run chain)')
    .requiredOption('--config <file>', 'worker YAML config')
    .action(async (jobId: string, options: { config: string }) => setExitCode((await import('./outbox.command')).outboxShowCommand(jobId, options, io)));
  const policy = program.command('policy').description('the policy this worker enforces: its local config, the central bundle in force, and their merge');
  policy
    .command('show')
    .description('show the local rules, the bundle in force with its layers, and the effective policy for the worker and each catalog repository')
    .requiredOption('--config <file>', 'worker YAML config')
    .option('--json', 'print JSON instead of text')
    .action(wrap(async (options: { config: string; json?: boolean }) => (await import('./policy.command')).policyShowCommand(options, io)));
  policy
    .command('evaluate')
    .description('what a candidate policy document would have done to the recent jobs of this worker (local only: contacts nothing)')
    .argument('<candidate>', 'the candidate policy document, YAML or JSON')
    .requiredOption('--config <file>', 'worker YAML config')
    .option('--last <n>', `evaluate the last n job records (default ${DEFAULT_EVALUATE_LAST})`, positiveInteger('--last', 100_000))
    .action(async (file: string, options: { config: string; last?: number }) => setExitCode(await (await import('./policy-evaluate.command')).policyEvaluateCommand(file, options, io)));
  program
    .command('secrets')
    .description('sealed token files: tokens kept encrypted under the key-encryption key of the config section secrets')
    .command('seal')
    .description('seal the token read from stdin (never from the command line) into a file to name as a tokenFile')
    .requiredOption('--config <file>', 'worker YAML config (only its secrets section is read)')
    .requiredOption('--out <file>', 'the sealed token file to write (0600)')
    .option('--force', 'replace the file if it exists')
    .action(wrap(async (options: { config: string; out: string; force?: boolean }) => (await import('./secrets-seal.command')).secretsSealCommand(options, io)));
  program
    .command('config-schema')
    .description('print the JSON Schema of the worker config file')
    .action(
      wrap(async () => {
        const { workerConfigJsonSchema } = await import('../config/worker-config.schema');
        io.out(`${JSON.stringify(workerConfigJsonSchema(), null, 2)}\n`);
        return EXIT_CODES.ok;
      }),
    );
  return program;
}

/** Parses argv, runs the command and resolves with the exit code; known errors become one clear line. */
export async function runWorkerCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let exitCode: number = EXIT_CODES.ok;
  try {
    await buildWorkerCli(io, (code) => (exitCode = code)).parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.configInvalid;
    if (error instanceof WorkerConfigInvalidError) {
      io.err(`${error.message}\n`);
      return EXIT_CODES.configInvalid;
    }
    if (error instanceof WorkerNotEnrolledError) {
      io.err(`${error.message}\n`);
      return EXIT_CODES.enrollmentState;
    }
    if (error instanceof EgressAuditLogCorruptError || error instanceof PolicyBundleFileInvalidError) {
      io.err(`${error.message}\n`);
      return EXIT_CODES.failed;
    }
    if (error instanceof CliExitError) {
      io.err(`${error.message}\n`);
      return error.exitCode;
    }
    io.err(`unexpected error: ${(error as Error).message}\n`);
    return EXIT_CODES.failed;
  }
}
