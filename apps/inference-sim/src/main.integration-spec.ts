import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.join(__dirname, 'main.ts');
const FIXTURES = path.join(__dirname, 'fixtures');
// Starting Node with the SWC loader takes a few seconds on a busy machine.
const PROCESS_TIMEOUT_MS = 30_000;

const children: ChildProcess[] = [];

afterEach(() => {
  // A failed assertion must not leave a simulator running after the suite.
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

function startProcess(...flags: string[]) {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', MAIN, ...flags], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
  return { child, exited };
}

describe('inference-sim process', () => {
  it(
    'prints one JSON listening line, serves, and exits 0 on SIGTERM',
    async () => {
      const { child, exited } = startProcess('--port', '0', '--scenarios', path.join(FIXTURES, 'ok', 'basic'));
      const lines = createInterface({ input: child.stdout });

      const [firstLine] = (await once(lines, 'line')) as [string];
      const listening = JSON.parse(firstLine) as { event: string; url: string };
      const health = await fetch(new URL('/health', listening.url));
      child.kill('SIGTERM');
      const { code } = await exited;

      expect(listening).toEqual({ event: 'listening', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/) });
      expect(health.status).toBe(200);
      expect(code).toBe(0);
    },
    PROCESS_TIMEOUT_MS,
  );

  it(
    'exits 1 naming the file and field when a scenario is invalid',
    async () => {
      const dir = path.join(FIXTURES, 'not-ok', 'unknown-key');
      const { exited } = startProcess('--scenarios', dir);

      const { code, stderr } = await exited;

      expect(code).toBe(1);
      expect(stderr).toContain(`Scenario file "${path.join(dir, '10-typo.yaml')}" is invalid at "response"`);
      expect(stderr).toContain('latancy_ms');
    },
    PROCESS_TIMEOUT_MS,
  );

  it(
    'exits 1 naming the flag when a flag is invalid',
    async () => {
      const { exited } = startProcess('--scenarios', FIXTURES, '--error-rate', '2');

      const { code, stderr } = await exited;

      expect(code).toBe(1);
      expect(stderr).toContain('--error-rate');
    },
    PROCESS_TIMEOUT_MS,
  );
});
