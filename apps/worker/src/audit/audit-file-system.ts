import * as fs from 'node:fs';

/**
 * The synchronous file calls the egress audit log makes, and nothing else. Production uses
 * `nodeAuditFileSystem`; tests wrap it to make one call fail part-way (a short write, then
 * ENOSPC) without needing a full disk.
 */
export interface AuditFileSystem {
  openSync(path: string, flags: string, mode?: number): number;
  closeSync(fd: number): void;
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  /** Writes from `buffer[offset…]` at the end of an `a`/`a+` file; may write fewer bytes than asked. */
  writeSync(fd: number, buffer: Buffer, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
  fstatSync(fd: number): { readonly size: number };
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  readdirSync(directory: string): string[];
}

/** The real file system. */
export const nodeAuditFileSystem: AuditFileSystem = {
  openSync: (path, flags, mode) => fs.openSync(path, flags, mode),
  closeSync: (fd) => fs.closeSync(fd),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fstatSync: (fd) => fs.fstatSync(fd),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (path) => fs.unlinkSync(path),
  readdirSync: (directory) => fs.readdirSync(directory),
};

/** The errno code of a failed file call (`ENOSPC`, `EIO`, …), or `UNKNOWN` for anything else. */
export function errnoCodeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]{1,20}$/.test(code) ? code : 'UNKNOWN';
}

/**
 * Errors that mean "no room on the disk right now": transient, since space can come back
 * (a log rotated elsewhere, an operator cleaning up), unlike a corrupt log or a missing
 * directory.
 */
export function isOutOfSpace(error: unknown): boolean {
  const code = errnoCodeOf(error);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** fsyncs a directory, so that a rename, create or unlink in it survives a power loss. */
export function fsyncDirectory(fileSystem: AuditFileSystem, directory: string): void {
  const fd = fileSystem.openSync(directory, 'r');
  try {
    fileSystem.fsyncSync(fd);
  } finally {
    fileSystem.closeSync(fd);
  }
}
