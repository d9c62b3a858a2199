import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** A JSON event a managed program printed on its own line of stdout. */
export type ProcessEvent = Record<string, unknown> & { event?: unknown };

export interface ManagedProcessOptions {
  /** Short name used in error messages. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Every line of stdout and stderr is appended here, so a failure can be read afterwards. */
  readonly logFile: string;
  /**
   * A program to start the command under, with its arguments up to the command (e.g.
   * `['strace', '-f', '-o', FILE, '--']`). It must start the command as its one child and end
   * when that ends. Default: none, the command is started directly.
   */
  readonly wrapWith?: readonly string[];
}

/**
 * A child process whose stdout is read line by line: JSON lines become events that callers
 * can wait for (a "ready" line with the ports it bound), everything goes to a log file.
 */
export class ManagedProcess {
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private readonly events: ProcessEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  constructor(private readonly options: ManagedProcessOptions) {
    this.log = createWriteStream(options.logFile, { flags: 'a' });
    const [wrapper, ...wrapperArgs] = options.wrapWith ?? [];
    const argv = wrapper === undefined ? [options.command, ...options.args] : [wrapper, ...wrapperArgs, options.command, ...options.args];
    this.child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onLine = (line: string): void => {
      this.log.write(`${line}\n`);
      if (!line.startsWith('{')) return;
      try {
        this.events.push(JSON.parse(line) as ProcessEvent);
        this.notify();
      } catch {
        // Not every line starting with a brace is ours to parse; it is still in the log.
      }
    };
    createInterface({ input: this.child.stdout! }).on('line', onLine);
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.log.write(`${line}\n`));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.notify();
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  get exitCode(): number | null | undefined {
    return this.exitInfo?.code;
  }

  /** Every JSON event seen so far. */
  allEvents(): readonly ProcessEvent[] {
    return this.events;
  }

  /** Waits for the first event (past or future) that satisfies the predicate. */
  async waitForEvent(predicate: (event: ProcessEvent) => boolean, timeoutMs: number): Promise<ProcessEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (this.exitInfo) {
        throw new Error(`${this.options.name} exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal}) before the awaited event; see ${this.options.logFile}`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`${this.options.name}: awaited event did not come within ${timeoutMs} ms; see ${this.options.logFile}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, remaining);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** Sends a signal without waiting (SIGKILL for crash tests); to the command, not its wrapper. */
  signal(signal: NodeJS.Signals): void {
    if (!this.exitInfo) this.kill(signal);
  }

  /** Asks the process to stop; kills it if it has not exited within the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.exitInfo) {
      this.kill('SIGTERM');
      const timer = setTimeout(() => {
        this.kill('SIGKILL');
        this.child.kill('SIGKILL');
      }, graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  /** Resolves when the process has exited, by itself or by a signal. */
  waitForExit(): Promise<void> {
    return this.exited;
  }

  /**
   * Signals the command. Under a wrapper that is the wrapper's child: a tracer such as strace
   * holds fatal signals back rather than pass them on, so signalling it would stop nothing.
   */
  private kill(signal: NodeJS.Signals): void {
    const wrapped = this.options.wrapWith === undefined ? undefined : this.wrappedPid();
    if (wrapped === undefined) {
      this.child.kill(signal);
      return;
    }
    try {
      process.kill(wrapped, signal);
    } catch {
      // It has just exited; the wrapper follows it.
    }
  }

  /** The wrapper's one child, as the kernel lists it; undefined before the wrapper has started it. */
  private wrappedPid(): number | undefined {
    const pid = this.child.pid;
    if (pid === undefined) return undefined;
    try {
      const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
      return first ? Number(first) : undefined;
    } catch {
      return undefined;
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
    this.waiters.clear();
  }
}
