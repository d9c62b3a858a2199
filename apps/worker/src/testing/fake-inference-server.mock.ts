import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The request bodies the fake server received. */
export interface RecordedChat {
  readonly model: string;
  readonly messages: ReadonlyArray<{ role: string; content: string }>;
  readonly stream?: boolean;
  readonly tools?: unknown[];
}

const USAGE = { prompt_tokens: 321, completion_tokens: 54, total_tokens: 375 };

/**
 * A real HTTP server speaking the OpenAI shapes the worker uses: `GET /v1/models` and
 * `POST /v1/chat/completions`, streamed (SSE chunks, a final usage chunk, `[DONE]`) or not
 * (one `chat.completion`), as the request asks. `answer` decides the model's text from the
 * request; it never makes native tool calls, as a model that only knows edit blocks would not.
 */
export class FakeInferenceServer {
  readonly chats: RecordedChat[] = [];
  /** How long the "model" thinks before answering (the window in which tests cancel or pause a job). */
  delayMs = 0;
  private readonly server: Server;
  baseUrl = '';

  constructor(
    private readonly model: string,
    private readonly answer: (chat: RecordedChat) => string,
  ) {
    this.server = createServer((request, response) => {
      if (request.method === 'GET' && request.url === '/v1/models') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: this.model, object: 'model', created: 0, owned_by: 'test' }] }));
        return;
      }
      if (request.method === 'POST' && request.url === '/v1/chat/completions') {
        void readBody(request).then(async (body) => {
          const chat = JSON.parse(body) as RecordedChat;
          if (this.delayMs > 0) await new Promise((resolveDelay) => setTimeout(resolveDelay, this.delayMs));
          this.chats.push(chat);
          const text = this.answer(chat);
          if (chat.stream !== true) {
            const message = { role: 'assistant', content: text };
            response.writeHead(200, { 'content-type': 'application/json' });
            response.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 0, model: this.model, choices: [{ index: 0, message, finish_reason: 'stop' }], usage: USAGE }));
            return;
          }
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          const chunk = (payload: object) => response.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: this.model, ...payload })}\n\n`);
          for (let i = 0; i < text.length; i += 40) chunk({ choices: [{ index: 0, delta: { content: text.slice(i, i + 40) }, finish_reason: null }] });
          chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
          chunk({ choices: [], usage: USAGE });
          response.end('data: [DONE]\n\n');
        });
        return;
      }
      response.writeHead(404).end();
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
