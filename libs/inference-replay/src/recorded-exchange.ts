import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const headerList = z.array(z.tuple([z.string(), z.string()]));

/** One recorded HTTP exchange with a real inference server (see the README beside the recordings). */
const recordedExchangeSchema = z.object({
  case: z.string().min(1),
  description: z.string(),
  group: z.string(),
  request: z.object({ method: z.string().min(1), path: z.string().startsWith('/'), headers: headerList, body: z.string().nullable() }),
  response: z.object({
    status: z.number().int().min(100).max(599),
    statusMessage: z.string(),
    headers: headerList,
    body: z.string(),
    reads: z.array(z.object({ atMs: z.number(), bytes: z.number().int().nonnegative() })).default([]),
  }),
});

export type RecordedExchange = z.infer<typeof recordedExchangeSchema>;

/** The folder of this library's recordings of llama.cpp's `llama-server` (build b4748). */
export const LLAMA_SERVER_TRANSCRIPTS = resolve(__dirname, '..', 'transcripts', 'llama-server');

/** Raised when a transcript file is not a recorded exchange; names the file and the field. */
export class RecordedExchangeInvalidError extends Error {
  override readonly name = 'RecordedExchangeInvalidError';
  readonly code = 'RECORDED_EXCHANGE_INVALID';

  constructor(
    readonly file: string,
    readonly field: string,
    expected: string,
  ) {
    super(`${file}: ${field}: ${expected}`);
  }
}

/** Loads one recorded exchange, validating its shape. */
export function loadRecordedExchange(file: string): RecordedExchange {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new RecordedExchangeInvalidError(file, '(file)', 'expected a readable JSON file');
  }
  const parsed = recordedExchangeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RecordedExchangeInvalidError(file, issue.path.join('.') || '(root)', issue.message);
  }
  return parsed.data;
}

/** Every `*.json` exchange in a folder, in file-name order, keyed by file name without `.json`. */
export function loadRecordedExchanges(directory: string): Map<string, RecordedExchange> {
  const exchanges = new Map<string, RecordedExchange>();
  for (const name of readdirSync(directory).filter((entry) => entry.endsWith('.json')).sort()) {
    exchanges.set(name.slice(0, -'.json'.length), loadRecordedExchange(join(directory, name)));
  }
  return exchanges;
}
