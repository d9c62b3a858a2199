import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidRequestError } from './invalid-request.error';
import { MalformedJsonError } from './malformed-json.error';
import { RequestBodyTooLargeError } from './request-body-too-large.error';
import { UnsupportedMediaTypeError } from './unsupported-media-type.error';

/**
 * The largest request body read. The largest valid request (a fix job with a 16 KiB
 * description and a 200-character title) stays below it even with every character
 * written as a JSON \u escape (6 bytes per byte of UTF-8: 96 KiB + 2.4 KiB).
 */
export const MAX_REQUEST_BODY_BYTES = 128 * 1024;

/**
 * The largest body of the policy routes (`/api/v1/policies…`). A policy document may take
 * 128 KiB as compact JSON (checked after parsing); as sent it may be indented or escaped,
 * so the body gets room for that.
 */
export const MAX_POLICY_REQUEST_BODY_BYTES = 512 * 1024;
const POLICY_ROUTES = /^\/api\/v1\/policies(?:[/?]|$)/;

/**
 * No request of this API nests deeper than two levels (a job's ticket). Validation walks
 * nested values recursively, so depth is bounded before anything recurses.
 */
export const MAX_JSON_DEPTH = 8;

const JSON_MEDIA_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** A request as this reader sees it: Node's message plus the parsed body it sets. */
type BodyRequest = IncomingMessage & { body?: unknown };

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The problem with the request's declared body, or null. Checked before a byte is read. */
function headerProblem(request: IncomingMessage, maxBytes: number): Error | null {
  const contentType = request.headers['content-type'];
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType.trim())) {
    return new UnsupportedMediaTypeError('content-type', 'application/json (charset utf-8, if given)');
  }
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return new UnsupportedMediaTypeError('content-encoding', 'identity (no compression)');
  }
  const length = Number(request.headers['content-length'] ?? 0);
  if (length > maxBytes) return new RequestBodyTooLargeError(maxBytes);
  return null;
}

/** Checks nesting depth without recursion: the value may be nested far deeper than the stack allows. */
function isNestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > maxDepth) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}

function parse(bytes: Buffer, maxDepth: number): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MalformedJsonError('UTF-8 encoded JSON');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedJsonError('valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRequestError(['body: expected a JSON object']);
  if (isNestedDeeperThan(value, maxDepth)) throw new InvalidRequestError([`body: expected JSON nested at most ${maxDepth} levels deep`]);
  return value;
}

/**
 * Express middleware that reads every request body of the API: JSON only, UTF-8, at most
 * `maxBytes`, nested at most `maxDepth` levels, and an object at the top. It replaces the
 * stock body parsers, which also accept URL-encoded forms and whose parse errors quote the
 * body back to the client. Each refusal is a domain error naming what was expected; the
 * exception filter turns it into 400, 413 or 415.
 */
export function jsonBodyReader(maxBytes = MAX_REQUEST_BODY_BYTES, maxDepth = MAX_JSON_DEPTH) {
  return (request: BodyRequest, _response: ServerResponse, next: (error?: unknown) => void): void => {
    if (!hasBody(request)) {
      next();
      return;
    }
    const refused = headerProblem(request, maxBytes);
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLarge = false;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      next(error);
    };
    request.on('data', (chunk: Buffer) => {
      // A refused body is still read to its end (and dropped), so the client, still
      // sending, gets the answer instead of a reset connection.
      if (refused || tooLarge) return;
      received += chunk.length;
      if (received > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (refused) return settle(refused);
      if (tooLarge) return settle(new RequestBodyTooLargeError(maxBytes));
      try {
        const bytes = Buffer.concat(chunks);
        if (bytes.length > 0) request.body = parse(bytes, maxDepth);
        settle();
      } catch (error) {
        settle(error);
      }
    });
    // The client went away mid-body; nobody will read the answer, but the chain must end.
    request.on('error', () => settle(new MalformedJsonError('a complete body')));
  };
}

/**
 * The body reader of the whole API: the policy routes read up to MAX_POLICY_REQUEST_BODY_BYTES,
 * every other route up to MAX_REQUEST_BODY_BYTES.
 */
export function apiBodyReader() {
  const policyBodies = jsonBodyReader(MAX_POLICY_REQUEST_BODY_BYTES);
  const otherBodies = jsonBodyReader();
  return (request: BodyRequest, response: ServerResponse, next: (error?: unknown) => void): void =>
    (POLICY_ROUTES.test(request.url ?? '') ? policyBodies : otherBodies)(request, response, next);
}
