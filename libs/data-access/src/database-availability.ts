import { Prisma } from '@prisma/client';

/**
 * Prisma error codes that mean "the database cannot be used right now", not "this query is
 * wrong": unreachable or timed-out server (P1001, P1002, P1008), a closed connection
 * (P1017), no pooled connection in time (P2024), a transaction that could not start or
 * finish in time (P2028).
 */
const UNAVAILABLE_PRISMA_CODES: ReadonlySet<string> = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);

/** `kind` values of @prisma/adapter-pg's mapped driver errors that say the same. */
const UNAVAILABLE_ADAPTER_KINDS: ReadonlySet<string> = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/**
 * SQLSTATEs of a server that is going away or not there yet: class 08 (connection
 * exception), 57P01–57P03 (admin/crash shutdown, cannot connect now), 53300 (too many
 * connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

/** Socket errors of a connection to a server that is down or unreachable. */
const UNAVAILABLE_SOCKET_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * What node-postgres throws, unmapped by the adapter, when the server goes away under a
 * query or a connection attempt times out.
 */
const UNAVAILABLE_PG_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

// Errors wrap errors (Prisma → driver adapter → pg); a few levels cover every real chain.
const MAX_CAUSE_DEPTH = 4;

function property(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function isUnavailableAdapterCause(cause: unknown): boolean {
  const kind = property(cause, 'kind');
  if (typeof kind !== 'string') return false;
  if (UNAVAILABLE_ADAPTER_KINDS.has(kind)) return true;
  const sqlState = property(cause, 'code');
  return kind === 'postgres' && typeof sqlState === 'string' && UNAVAILABLE_SQLSTATE.test(sqlState);
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    return UNAVAILABLE_PRISMA_CODES.has(error.code) || isUnavailableAdapterCause(property(property(error.meta, 'driverAdapterError'), 'cause'));
  }
  if (error instanceof Prisma.PrismaClientInitializationError) {
    return error.errorCode !== undefined && UNAVAILABLE_PRISMA_CODES.has(error.errorCode);
  }
  if (property(error, 'name') === 'DriverAdapterError') return isUnavailableAdapterCause(property(error, 'cause'));
  const code = property(error, 'code');
  if (typeof code === 'string' && (UNAVAILABLE_SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  return error instanceof Error && UNAVAILABLE_PG_MESSAGE.test(error.message);
}

/**
 * True when `error` says the database is down, unreachable or overloaded — a transient
 * condition worth a retry later — rather than a problem with the query or its data.
 * Callers at the edge answer it with 503 and Retry-After instead of 500.
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && current !== undefined && current !== null; depth += 1) {
    if (isUnavailable(current)) return true;
    current = property(current, 'cause');
  }
  return false;
}
