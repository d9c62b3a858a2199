import { Command, InvalidArgumentError, Option, type OutputConfiguration } from 'commander';
import { SIM_DEFAULTS, type SimServerOptions } from './sim-server';

/** The options the command line can set for scenario files: everything but the injected clock. */
export type SimCliOptions = Required<Omit<SimServerOptions, 'now' | 'contextWindow'>> & Pick<SimServerOptions, 'contextWindow'>;

/** What to serve: scripted scenarios, or recordings of a real server replayed byte for byte. */
export type SimCliCommand = ({ readonly mode: 'scenarios' } & SimCliOptions) | { readonly mode: 'replay'; readonly replayDir: string; readonly host: string; readonly port: number };

/**
 * Parses `argv` (as in `process.argv`, node and script first). On a bad flag or `--help`,
 * commander writes to `output` and throws a `CommanderError` carrying the exit code.
 * Exactly one of `--scenarios` and `--replay` is required.
 */
export function parseSimCli(argv: readonly string[], output?: OutputConfiguration): SimCliCommand {
  const program = new Command('inference-sim')
    .description('OpenAI-compatible inference simulator answering from scenario files.')
    .exitOverride()
    .addOption(new Option('--scenarios <dir>', 'directory of scenario files (*.yaml, *.yml, *.json)').conflicts('replay'))
    .addOption(new Option('--replay <dir>', 'directory of recorded exchanges of a real server, replayed byte for byte').conflicts('scenarios'))
    .option('--host <host>', 'interface to bind', SIM_DEFAULTS.host)
    .option('--port <port>', 'port to bind; 0 picks a free one', integerIn('port', 0, 65_535), SIM_DEFAULTS.port)
    .option('--model <id>', 'model id to serve', SIM_DEFAULTS.model)
    .option(
      '--latency-ms <ms>',
      'latency added to every chat completion',
      integerIn('milliseconds', 0, Number.MAX_SAFE_INTEGER),
      SIM_DEFAULTS.latencyMs,
    )
    .option(
      '--error-rate <rate>',
      'share of chat completions answered with an injected 503, 0..1',
      fraction,
      SIM_DEFAULTS.errorRate,
    )
    .option(
      '--seed <n>',
      'seed deciding which requests --error-rate fails',
      integerIn('seed', 0, 2 ** 32 - 1),
      SIM_DEFAULTS.seed,
    )
    .option(
      '--context-window <tokens>',
      'context window to report at GET /props (llama.cpp shape) and as max_model_len in /v1/models (vLLM shape)',
      integerIn('tokens', 1, 2 ** 31 - 1),
    );
  if (output !== undefined) program.configureOutput(output);
  program.parse([...argv]);
  const opts = program.opts<{
    scenarios?: string;
    replay?: string;
    host: string;
    port: number;
    model: string;
    latencyMs: number;
    errorRate: number;
    seed: number;
    contextWindow?: number;
  }>();
  if (opts.replay !== undefined) return { mode: 'replay', replayDir: opts.replay, host: opts.host, port: opts.port };
  if (opts.scenarios === undefined) return program.error("error: one of '--scenarios <dir>' or '--replay <dir>' is required");
  return {
    mode: 'scenarios',
    scenariosDir: opts.scenarios,
    host: opts.host,
    port: opts.port,
    model: opts.model,
    latencyMs: opts.latencyMs,
    errorRate: opts.errorRate,
    seed: opts.seed,
    contextWindow: opts.contextWindow,
  };
}

function integerIn(what: string, min: number, max: number): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`Expected ${what} as an integer from ${min} to ${max}.`);
    }
    return value;
  };
}

function fraction(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidArgumentError('Expected a number from 0 to 1.');
  }
  return value;
}
