import { type AuditFileSystem, nodeAuditFileSystem } from './audit-file-system';

type Call = keyof AuditFileSystem;

interface Fault {
  readonly call: Call;
  readonly code: string;
  remaining: number;
  /** Only calls whose first argument (a path) satisfies this fail. */
  readonly onPath: ((path: string) => boolean) | undefined;
  /** writeSync only: the first failing call writes this many bytes and returns short, the next one throws. */
  partialBytes: number | undefined;
}

/**
 * The real file system with failures injected on demand: `fail('writeSync', 'ENOSPC',
 * { partialBytes: 40 })` makes the next write put 40 bytes on disk and report a short
 * write, and the one after throw ENOSPC, as a disk filling up mid-line does.
 */
export class FaultyFileSystem implements AuditFileSystem {
  private faults: Fault[] = [];
  /** Calls made, by name, for assertions that something was (not) attempted. */
  readonly calls: Call[] = [];

  /** Makes the next `times` calls (default 1; Infinity until `heal`) to `call` fail with errno `code`. */
  fail(call: Call, code: string, options: { readonly times?: number; readonly onPath?: (path: string) => boolean; readonly partialBytes?: number } = {}): this {
    this.faults.push({ call, code, remaining: options.times ?? 1, onPath: options.onPath, partialBytes: options.partialBytes });
    return this;
  }

  /** Removes every pending fault: the disk has space again. */
  heal(): void {
    this.faults = [];
  }

  openSync(path: string, flags: string, mode?: number): number {
    this.trip('openSync', path);
    return nodeAuditFileSystem.openSync(path, flags, mode);
  }

  closeSync(fd: number): void {
    this.trip('closeSync');
    nodeAuditFileSystem.closeSync(fd);
  }

  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    this.trip('readSync');
    return nodeAuditFileSystem.readSync(fd, buffer, offset, length, position);
  }

  writeSync(fd: number, buffer: Buffer, offset: number, length: number): number {
    this.calls.push('writeSync');
    const fault = this.active('writeSync', undefined);
    if (fault?.partialBytes !== undefined) {
      const written = nodeAuditFileSystem.writeSync(fd, buffer, offset, Math.min(fault.partialBytes, length));
      fault.partialBytes = undefined;
      return written;
    }
    if (fault) this.spend(fault);
    return nodeAuditFileSystem.writeSync(fd, buffer, offset, length);
  }

  fsyncSync(fd: number): void {
    this.trip('fsyncSync');
    nodeAuditFileSystem.fsyncSync(fd);
  }

  ftruncateSync(fd: number, length: number): void {
    this.trip('ftruncateSync');
    nodeAuditFileSystem.ftruncateSync(fd, length);
  }

  fstatSync(fd: number): { readonly size: number } {
    this.trip('fstatSync');
    return nodeAuditFileSystem.fstatSync(fd);
  }

  renameSync(from: string, to: string): void {
    this.trip('renameSync', from);
    nodeAuditFileSystem.renameSync(from, to);
  }

  unlinkSync(path: string): void {
    this.trip('unlinkSync', path);
    nodeAuditFileSystem.unlinkSync(path);
  }

  readdirSync(directory: string): string[] {
    this.trip('readdirSync', directory);
    return nodeAuditFileSystem.readdirSync(directory);
  }

  private trip(call: Call, path?: string): void {
    this.calls.push(call);
    const fault = this.active(call, path);
    if (fault) this.spend(fault);
  }

  private active(call: Call, path: string | undefined): Fault | undefined {
    return this.faults.find((fault) => fault.call === call && fault.remaining > 0 && (fault.onPath === undefined || (path !== undefined && fault.onPath(path))));
  }

  private spend(fault: Fault): never {
    fault.remaining -= 1;
    throw Object.assign(new Error(`${fault.code}: injected ${fault.call} failure`), { code: fault.code });
  }
}
