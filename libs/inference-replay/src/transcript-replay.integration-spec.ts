import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLAMA_SERVER_TRANSCRIPTS, loadRecordedExchange, loadRecordedExchanges, RecordedExchangeInvalidError, type RecordedExchange } from './recorded-exchange';
import { startTranscriptReplay, type TranscriptReplay } from './transcript-replay.server';

/** Sends the recorded request as recorded and collects the answer and how it arrived. */
function send(base: string, exchange: RecordedExchange): Promise<{ status: number; contentType: string | undefined; body: string; chunks: number }> {
  const url = new URL(exchange.request.path, base.replace(/\/v1$/, '/'));
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: exchange.request.method, headers: exchange.request.body === null ? {} : { 'content-type': 'application/json' } }, (incoming) => {
      const parts: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => parts.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, contentType: incoming.headers['content-type'], body: Buffer.concat(parts).toString('utf8'), chunks: parts.length }));
    });
    outgoing.on('error', reject);
    outgoing.end(exchange.request.body ?? undefined);
  });
}

describe('transcript replay of a real llama-server', () => {
  const recordings = loadRecordedExchanges(LLAMA_SERVER_TRANSCRIPTS);

  it('holds all 27 recordings, each a valid exchange', () => {
    expect(recordings.size).toBe(27);
  });

  it.each([...recordings.keys()])('answers %s byte for byte, with its status and content type', async (name) => {
    const exchange = recordings.get(name)!;
    const replay: TranscriptReplay = await startTranscriptReplay([exchange]);
    try {
      const answer = await send(replay.url, exchange);
      expect(answer.status).toBe(exchange.response.status);
      expect(answer.body).toBe(exchange.response.body);
      const recordedType = exchange.response.headers.find(([header]) => header.toLowerCase() === 'content-type')?.[1];
      expect(answer.contentType).toBe(recordedType);
      expect(replay.served).toBe(1);
    } finally {
      await replay.close();
    }
  });

  it('picks the streaming or the plain recording of a path by the request, and says 404 for a path it never recorded', async () => {
    const plain = recordings.get('02-chat-nonstream')!;
    const streamed = recordings.get('03-chat-stream-include-usage')!;
    const replay = await startTranscriptReplay([plain, streamed]);
    try {
      expect((await send(replay.url, streamed)).contentType).toBe('text/event-stream');
      expect((await send(replay.url, plain)).contentType).toBe('application/json; charset=utf-8');
      const missing = await send(replay.url, recordings.get('11b-unknown-path')!);
      expect(missing.status).toBe(404);
      expect(missing.body).toContain('no recording for GET /v1/nope');
    } finally {
      await replay.close();
    }
  });

  it('refuses a file that is not a recorded exchange, naming the field', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'airlock-replay-')), 'bad.json');
    writeFileSync(file, JSON.stringify({ case: 'x', description: '', group: 'main', request: { method: 'GET', path: 'no-slash', headers: [], body: null } }));
    expect(() => loadRecordedExchange(file)).toThrow(RecordedExchangeInvalidError);
    expect(() => loadRecordedExchange(file)).toThrow(/request\.path/);
  });
});
