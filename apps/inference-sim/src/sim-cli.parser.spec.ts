import { CommanderError } from 'commander';
import { parseSimCli } from './sim-cli.parser';

const argv = (...flags: string[]) => ['node', 'main.ts', ...flags];

function parseError(...flags: string[]): { error: unknown; stderr: string } {
  let stderr = '';
  try {
    parseSimCli(argv(...flags), { writeErr: (text) => (stderr += text), writeOut: () => undefined });
  } catch (error) {
    return { error, stderr };
  }
  throw new Error('expected the flags to be refused');
}

describe('parseSimCli', () => {
  it('applies defaults', () => {
    expect(parseSimCli(argv('--scenarios', 'dir'))).toEqual({
      mode: 'scenarios',
      scenariosDir: 'dir',
      host: '127.0.0.1',
      port: 0,
      model: 'airlock-sim-coder',
      latencyMs: 0,
      errorRate: 0,
      seed: 1,
    });
  });

  it('reads every flag', () => {
    const options = parseSimCli(
      argv(
        '--scenarios', 's', '--host', '0.0.0.0', '--port', '8000', '--model', 'x',
        '--latency-ms', '25', '--error-rate', '0.25', '--seed', '9',
      ),
    );

    expect(options).toEqual({
      mode: 'scenarios',
      scenariosDir: 's',
      host: '0.0.0.0',
      port: 8000,
      model: 'x',
      latencyMs: 25,
      errorRate: 0.25,
      seed: 9,
    });
  });

  it.each([
    [['--port', '70000'], '--port'],
    [['--port', 'abc'], '--port'],
    [['--error-rate', '1.5'], '--error-rate'],
    [['--latency-ms', '-1'], '--latency-ms'],
  ])('refuses %j naming the flag', (flags, flag) => {
    const { error, stderr } = parseError('--scenarios', 's', ...flags);

    expect(error).toBeInstanceOf(CommanderError);
    expect(stderr).toContain(flag);
  });

  it('reads --context-window as a number of tokens, and refuses one that is not a positive integer', () => {
    expect(parseSimCli(argv('--scenarios', 's', '--context-window', '8192'))).toMatchObject({ mode: 'scenarios', contextWindow: 8192 });
    expect(parseSimCli(argv('--scenarios', 's'))).toMatchObject({ contextWindow: undefined });
    expect(parseError('--scenarios', 's', '--context-window', '0').stderr).toContain('--context-window');
    expect(parseError('--scenarios', 's', '--context-window', '4k').stderr).toContain('--context-window');
  });

  it('requires --scenarios or --replay', () => {
    expect(parseError().stderr).toContain("one of '--scenarios <dir>' or '--replay <dir>' is required");
  });

  it('replays recordings with --replay, and refuses it together with --scenarios', () => {
    expect(parseSimCli(argv('--replay', 'recordings', '--port', '8080'))).toEqual({ mode: 'replay', replayDir: 'recordings', host: '127.0.0.1', port: 8080 });
    expect(parseError('--replay', 'r', '--scenarios', 's').stderr).toMatch(/cannot be used with/);
  });
});
