/**
 * Reading what arrives over core NATS. Any client of the NATS server can publish on any
 * subject, so a message is input like a request body: bounded, parsed, then checked field by
 * field by its reader before anything acts on it.
 */

/** Tenant, worker, job and replica ids are UUIDs; this is also what keeps them safe as one subject token. */
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuidShaped(value: unknown): value is string {
  return typeof value === 'string' && UUID_SHAPE.test(value);
}

/**
 * The JSON object a message carries, or null when it is longer than `maxBytes`, not UTF-8
 * JSON, or not a plain object. The length is checked before any parsing.
 */
export function boundedJsonObject(data: Uint8Array, maxBytes: number): Record<string, unknown> | null {
  if (data.byteLength === 0 || data.byteLength > maxBytes) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    return null;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
}

/** An error's name for a log line: never its message, which may quote what was received. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
