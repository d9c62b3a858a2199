import { CommanderError } from 'commander';
import { loadRecordedExchanges, startTranscriptReplay } from '@airlock/inference-replay';
import { parseSimCli, type SimCliCommand } from './sim-cli.parser';
import { startSimServer } from './sim-server';

/**
 * Starts the simulator from the command line. The only stdout output is one JSON line once
 * listening, so a parent process can read the URL; everything else goes to stderr.
 */
async function main(): Promise<void> {
  const sim = await start(parseSimCli(process.argv));
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: sim.url })}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal means the operator will not wait for in-flight requests.
      process.stderr.write(`inference-sim: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    sim.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`inference-sim: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Scripted scenarios, or recordings of a real server replayed byte for byte. */
function start(command: SimCliCommand): Promise<{ url: string; close(): Promise<void> }> {
  if (command.mode === 'replay') return startTranscriptReplay([...loadRecordedExchanges(command.replayDir).values()], command);
  return startSimServer(command);
}

main().catch((error: unknown) => {
  // Commander has already printed its usage error or help text.
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
    return;
  }
  process.stderr.write(`inference-sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
