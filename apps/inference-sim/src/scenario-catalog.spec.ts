import path from 'node:path';
import { type ChatCompletionRequest } from './chat-completion-request.schema';
import { loadScenarioCatalog, ScenarioCatalog } from './scenario-catalog';
import { scenarioSchema } from './scenario.schema';
import { ScenarioFileInvalidError } from './scenario-file-invalid.error';
import { ScenariosDirUnreadableError } from './scenarios-dir-unreadable.error';

const fixtures = path.join(__dirname, 'fixtures');

function request(model: string, ...messages: ChatCompletionRequest['messages']): ChatCompletionRequest {
  return { model, messages };
}

function scenario(name: string, match: Record<string, unknown> = {}) {
  return scenarioSchema.parse({ name, match, response: { content: name } });
}

describe('loadScenarioCatalog', () => {
  it('loads YAML and JSON files in filename order', async () => {
    const catalog = await loadScenarioCatalog(path.join(fixtures, 'ok', 'basic'));

    const flaky = catalog.match(request('airlock-sim-coder', { role: 'user', content: 'a flaky request' }));

    expect(flaky?.name).toBe('flaky');
    expect(flaky?.turns[0]?.fail_times).toBe(1);
    expect(catalog.modelIds).toEqual(['airlock-sim-reviewer']);
  });

  it.each([
    ['missing-response', '10-no-response.yaml', 'response', /exactly one of response .* or turns/],
    ['bad-tool-name', '10-bad-tool.yaml', 'response.tool_calls[1].name', /expected string/],
    ['fail-times-without-error', '10-retry.yaml', 'response.error', /fail_times needs an error/],
    ['unknown-key', '10-typo.yaml', 'response', /latancy_ms/],
    ['nothing-to-answer', '10-empty.yaml', 'response.content', /content \(a string\) or tool_calls/],
    ['not-a-mapping', '10-list.yaml', '(root)', /expected object/],
    ['duplicate-name', '20-second.yaml', 'name', /"same" is already used by ".*10-first\.yaml"/],
  ])('rejects not-ok/%s naming the file and the field', async (dir, file, field, reason) => {
    const loading = loadScenarioCatalog(path.join(fixtures, 'not-ok', dir));
    const error = await loading.catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ScenarioFileInvalidError);
    const invalid = error as ScenarioFileInvalidError;
    expect(invalid.file).toBe(path.join(fixtures, 'not-ok', dir, file));
    expect(invalid.field).toBe(field);
    expect(invalid.reason).toMatch(reason);
    expect(invalid.message).toContain(`"${invalid.file}" is invalid at "${field}"`);
  });

  it('rejects a file that is not YAML, naming the file', async () => {
    const dir = path.join(fixtures, 'not-ok', 'invalid-yaml');

    await expect(loadScenarioCatalog(dir)).rejects.toMatchObject({
      name: 'ScenarioFileInvalidError',
      file: path.join(dir, '10-broken.yaml'),
      field: null,
    });
  });

  it('rejects a directory that does not exist', async () => {
    const loading = loadScenarioCatalog(path.join(fixtures, 'absent'));

    await expect(loading).rejects.toBeInstanceOf(ScenariosDirUnreadableError);
  });
});

describe('ScenarioCatalog.match', () => {
  it('picks the first scenario whose substrings all appear in system and user text', () => {
    const catalog = new ScenarioCatalog([
      scenario('both', { contains: ['alpha', 'beta'] }),
      scenario('alpha', { contains: ['alpha'] }),
    ]);

    const split = catalog.match(
      request('m', { role: 'system', content: 'alpha' }, { role: 'user', content: [{ type: 'text', text: 'beta' }] }),
    );
    const single = catalog.match(request('m', { role: 'user', content: 'alpha only' }));

    expect(split?.name).toBe('both');
    expect(single?.name).toBe('alpha');
  });

  it('ignores assistant and tool text when matching contains', () => {
    const catalog = new ScenarioCatalog([scenario('secret', { contains: ['secret'] })]);

    const matched = catalog.match(
      request(
        'm',
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'secret' },
        { role: 'tool', content: 'secret' },
      ),
    );

    expect(matched).toBeUndefined();
  });

  it('honours model and last_role', () => {
    const catalog = new ScenarioCatalog([
      scenario('reviewer', { model: 'reviewer' }),
      scenario('after-tool', { last_role: 'tool' }),
    ]);

    expect(catalog.match(request('reviewer', { role: 'user', content: 'x' }))?.name).toBe('reviewer');
    expect(catalog.match(request('coder', { role: 'user', content: 'x' }))).toBeUndefined();
    expect(catalog.match(request('coder', { role: 'user', content: 'x' }, { role: 'tool', content: 'y' }))?.name).toBe(
      'after-tool',
    );
  });

  it('falls back to default only when nothing else matches, wherever default sorts', () => {
    const catalog = new ScenarioCatalog([scenario('default'), scenario('specific', { contains: ['specific'] })]);

    expect(catalog.match(request('m', { role: 'user', content: 'specific' }))?.name).toBe('specific');
    expect(catalog.match(request('m', { role: 'user', content: 'other' }))?.name).toBe('default');
  });
});
