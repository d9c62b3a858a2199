import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '../workspace-programs';
import { loadReplayCase, readReplayRepoConfig, resolveSetupEnv } from './replay-case';

const CASES_DIR = join(WORKSPACE_ROOT, 'e2e', 'replay', 'cases');

describe('loadReplayCase', () => {
  it.each(readdirSync(CASES_DIR))('loads the committed case %s and its .airlock.yml', (id) => {
    const replayCase = loadReplayCase(join(CASES_DIR, id));
    expect(replayCase.definition.id).toBe(id);
    expect(readReplayRepoConfig(replayCase).test.command.length).toBeGreaterThan(0);
  });

  it('names the field that is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-replay-case-spec-'));
    try {
      mkdirSync(join(dir, 'repo'));
      writeFileSync(join(dir, 'repo', '.airlock.yml'), 'version: 1\ntest: {command: [true]}\n');
      writeFileSync(
        join(dir, 'case.yml'),
        [
          'id: bad-case',
          'language: javascript',
          'source: {npm: {name: ms, version: latest}}',
          'fix: {npm: {version: 2.1.3, files: [index.js]}}',
          'upstream: https://example.com/issue/1',
          'ticket: {title: A title, description: long enough description of the symptom}',
          'expect: SUCCEEDED',
          'files: [.airlock.yml]',
        ].join('\n'),
      );
      expect(() => loadReplayCase(dir)).toThrow(/source\.npm\.version: expected an exact version/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resolveSetupEnv', () => {
  it('fills in the mirrors and refuses a placeholder with no mirror', () => {
    expect(resolveSetupEnv({ npm_config_registry: '{npmMirror}', PIP_CONFIG_FILE: '/dev/null' }, { npmMirror: 'http://127.0.0.1:1/' })).toEqual({
      npm_config_registry: 'http://127.0.0.1:1/',
      PIP_CONFIG_FILE: '/dev/null',
    });
    expect(() => resolveSetupEnv({ PIP_INDEX_URL: '{pythonIndex}' }, {})).toThrow(/PIP_INDEX_URL needs \{pythonIndex\}/);
  });
});
