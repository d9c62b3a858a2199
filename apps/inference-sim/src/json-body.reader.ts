import { type IncomingMessage } from 'node:http';
import { OpenAiApiError } from './openai-api.error';

/** Largest request body accepted: far above any prompt a test sends, small enough to stay in memory. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Reads and parses a JSON request body of at most `limitBytes`.
 *
 * An oversized body is still read to its end, and discarded, before the 413 is thrown: replying
 * while the client is still sending would reset the connection and hide the status from it.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > limitBytes) {
        reject(
          new OpenAiApiError(
            413,
            `Request body is ${size} bytes; the limit is ${limitBytes} bytes.`,
            'invalid_request_error',
            null,
            'request_too_large',
          ),
        );
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        reject(
          new OpenAiApiError(
            400,
            `The request body is not valid JSON: ${reason}`,
            'invalid_request_error',
            null,
            'invalid_json',
          ),
        );
      }
    });
  });
}
