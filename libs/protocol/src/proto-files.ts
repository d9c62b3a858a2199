import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Path of the wire contract, relative to the proto include root. */
export const WORKER_GATEWAY_PROTO = 'airlock/v1/worker_gateway.proto';

/**
 * Finds the `proto/` include root by walking up from this file, so the same code works
 * from sources (libs/protocol/src) and from any build output nested under the workspace.
 */
export function protoIncludeRoot(): string {
  let dir = __dirname;
  for (let depth = 0; depth < 8; depth += 1) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, WORKER_GATEWAY_PROTO))) return candidate;
    dir = resolve(dir, '..');
  }
  throw new Error(`Cannot find proto/${WORKER_GATEWAY_PROTO} above ${__dirname}`);
}
