import { once } from 'node:events';
import { type ServerResponse } from 'node:http';

/**
 * Writes a server-sent event stream the way OpenAI-compatible servers do: one `data:` line of
 * JSON per event, a blank line after each, and `data: [DONE]` to finish.
 */
export class SseWriter {
  /** @param signal Aborted when the client goes away; pending writes then stop waiting. */
  constructor(
    private readonly res: ServerResponse,
    private readonly signal: AbortSignal,
  ) {}

  /** Sends the 200 status and event-stream headers, so the client sees the stream start. */
  open(): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    this.res.flushHeaders();
  }

  /** Sends one event, waiting for the socket to drain so a slow reader is not buffered without bound. */
  async send(data: unknown): Promise<void> {
    this.signal.throwIfAborted();
    if (!this.res.write(`data: ${JSON.stringify(data)}\n\n`)) {
      await once(this.res, 'drain', { signal: this.signal });
    }
  }

  /** Drops the connection without `[DONE]` or a final chunk: a network cut mid-stream. */
  cut(): void {
    this.res.destroy();
  }

  /** Sends the `[DONE]` sentinel and ends the response. */
  done(): void {
    this.signal.throwIfAborted();
    this.res.end('data: [DONE]\n\n');
  }
}
