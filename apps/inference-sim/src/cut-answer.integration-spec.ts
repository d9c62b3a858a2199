import path from 'node:path';
import OpenAI from 'openai';
import { startSimServer, type RunningSimServer } from './sim-server';

const BASIC = path.join(__dirname, 'fixtures', 'ok', 'basic');
const MODEL = 'airlock-sim-coder';

/** `cut_times`: what a client sees when the connection drops halfway through an answer. */
describe('inference simulator: answers cut off mid-way (cut_times)', () => {
  let sim: RunningSimServer;
  let client: OpenAI;
  beforeEach(async () => {
    sim = await startSimServer({ scenariosDir: BASIC });
    client = new OpenAI({ baseURL: sim.url, apiKey: 'unused', maxRetries: 0 });
  });
  afterEach(() => sim.close());

  const ask = (stream: boolean) => {
    const messages = [{ role: 'user' as const, content: 'please cut me off' }];
    if (!stream) return client.chat.completions.create({ model: MODEL, messages }).then((completion) => completion.choices[0]?.message.content ?? '');
    return client.chat.completions.create({ model: MODEL, messages, stream: true }).then(async (chunks) => {
      let text = '';
      for await (const chunk of chunks) text += chunk.choices[0]?.delta?.content ?? '';
      return text;
    });
  };

  it('drops a streamed answer after half its chunks, without [DONE], then answers whole', async () => {
    await expect(ask(true)).rejects.toThrow();
    await expect(ask(true)).rejects.toThrow();
    await expect(ask(true)).resolves.toContain('arrives whole only on the third try');
  });

  it('drops a non-streamed answer after half its bytes, then answers whole', async () => {
    await expect(ask(false)).rejects.toThrow();
    await expect(ask(false)).rejects.toThrow();
    await expect(ask(false)).resolves.toContain('arrives whole only on the third try');
  });
});
