import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';

/**
 * At most this many sockets are masked one by one. A host with more named sockets in sight
 * than this is refused (SandboxUnavailableError) rather than half-masked: the bound keeps the
 * work per command, and bwrap's argument list, small.
 */
export const MAX_MASKED_SOCKETS = 1_024;

/** Paths the sandbox never shows the host's content at: its own /tmp, /dev and /proc. */
const SANDBOX_OWN_DIRS = ['/tmp', '/dev', '/proc'];

/**
 * The unix-domain sockets bound to a path on this host that a sandbox hiding `hiddenDirs`
 * would still show: the read-only bind of the host root does not stop connect(), so each
 * must be masked. Read from `/proc/net/unix` (every socket of the worker's network
 * namespace, a host daemon's included; the worker must run in the host's network namespace
 * to see them all) — each listed path canonicalised, kept only when it is still a socket
 * there and lies outside the hidden directories and the sandbox's own /tmp, /dev and /proc.
 * Abstract sockets (`@name`) are not files: the sandbox's own network namespace already
 * separates them.
 */
export function visibleHostSockets(hiddenDirs: readonly string[], table = readUnixTable()): string[] {
  const hidden = [...SANDBOX_OWN_DIRS, ...hiddenDirs];
  const sockets = new Set<string>();
  for (const path of namedSocketPaths(table)) {
    let real: string;
    try {
      real = realpathSync(path);
      if (!lstatSync(real).isSocket()) continue;
    } catch {
      continue; // unlinked since it was bound, or in a directory the worker cannot see
    }
    if (!hidden.some((dir) => isInside(real, dir))) sockets.add(real);
  }
  return [...sockets].sort();
}

/** The paths in a `/proc/net/unix` table: the eighth column when it is absolute (the path may hold spaces). */
export function namedSocketPaths(table: string): string[] {
  const paths = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const path = fields.slice(7).join(' ');
    if (path.startsWith('/')) paths.add(path);
  }
  return [...paths];
}

function readUnixTable(): string {
  try {
    return readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return '';
  }
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
