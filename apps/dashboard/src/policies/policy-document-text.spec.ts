import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonWithLines, type JsonNode } from './json-text';
import { placeDocumentProblems, POLICY_TEMPLATE, policyDocumentText, RULE_IDS, splitFieldProblems } from './policy-document-text';

const POLICY_DOCS = readFileSync(join(__dirname, '../../../../docs/policy.md'), 'utf8');

function rootOf(text: string): JsonNode {
  const parsed = parseJsonWithLines(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.root;
}

describe('the policy document as the editor shows it', () => {
  it('starts a new policy from the example of docs/policy.md, laid out as there', () => {
    const section = POLICY_DOCS.slice(POLICY_DOCS.indexOf('## A policy document'));
    const example = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(POLICY_TEMPLATE).toBe(example);
  });

  it('knows the rules docs/policy.md lists, in its order', () => {
    const table = POLICY_DOCS.slice(POLICY_DOCS.indexOf('## The rules'), POLICY_DOCS.indexOf('## Layers'));
    const documented = [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((match) => match[1]);
    expect(documented).toEqual([...RULE_IDS]);
  });

  it('shows a stored document in reading order, whatever order the database kept', () => {
    const stored = { rules: { secrets: { enabled: true }, 'max-files-changed': { max: 5 }, zz: 1 }, description: 'd', schemaVersion: 1 };
    expect(policyDocumentText(stored)).toBe(
      ['{', '  "schemaVersion": 1,', '  "description": "d",', '  "rules": {', '    "max-files-changed": { "max": 5 },', '    "secrets": { "enabled": true },', '    "zz": 1', '  }', '}'].join('\n'),
    );
  });
});

describe("the server's problems, placed in the text", () => {
  const text = POLICY_TEMPLATE.replace('"max": 10', '"max": 0').replace('"secrets": { "enabled": true }', '"secrets": { "enabled": true, "bogus": 1 }');
  const line = (needle: string) => text.split('\n').findIndex((candidate) => candidate.includes(needle)) + 1;

  it('splits a 400 message into its problems, each with its path', () => {
    expect(splitFieldProblems('name: expected 1..100 characters; document.rules.max-files-changed.max: expected at least 1; document: expected a JSON object')).toEqual([
      { path: 'name', text: 'expected 1..100 characters' },
      { path: 'document.rules.max-files-changed.max', text: 'expected at least 1' },
      { path: 'document', text: 'expected a JSON object' },
    ]);
    expect(splitFieldProblems('something else went wrong')).toEqual([{ path: '', text: 'something else went wrong' }]);
  });

  it('places each problem of the document at the line of the field it names', () => {
    const message = [
      'document.rules.max-files-changed.max: expected at least 1',
      'document.rules.secrets: expected no field "bogus" (unknown here)',
      'document.rules.protected-paths.paths[2]: expected a repository-relative path glob (no leading /, no .. segment)',
      'document.rules.tests-must-pass.required: expected a value (boolean is required)',
      'document: expected at most 131072 bytes of JSON (it has 200000)',
      'name: expected a name no other policy of this tenant has',
    ].join('; ');
    const { placed, other } = placeDocumentProblems(rootOf(text), message);
    expect(placed).toEqual([
      { path: 'rules.max-files-changed.max', line: line('"max": 0'), text: 'expected at least 1' },
      // An unknown member is shown where it is written, not at its parent.
      { path: 'rules.secrets', line: line('"bogus"'), text: 'expected no field "bogus" (unknown here)' },
      { path: 'rules.protected-paths.paths[2]', line: line('"protected-paths"'), text: 'expected a repository-relative path glob (no leading /, no .. segment)' },
      // A missing rule: at the object that lacks it.
      { path: 'rules.tests-must-pass.required', line: line('"rules"'), text: 'expected a value (boolean is required)' },
      { path: '', line: null, text: 'expected at most 131072 bytes of JSON (it has 200000)' },
    ]);
    expect(other).toEqual([{ path: 'name', text: 'expected a name no other policy of this tenant has' }]);
  });

  it('places a problem of an item on the item\'s own line when the list is open', () => {
    const open = '{\n  "rules": {\n    "protected-paths": {\n      "paths": [\n        "ok/**",\n        "/etc"\n      ]\n    }\n  }\n}';
    const { placed } = placeDocumentProblems(rootOf(open), 'document.rules.protected-paths.paths[1]: expected a repository-relative path glob');
    expect(placed[0]?.line).toBe(6);
  });

  it('takes the split whose path the text has when a member name holds ": "', () => {
    const odd = '{\n  "rules": {\n    "base-refs": {\n      "allowed": {\n        "a: b": ["main"]\n      }\n    }\n  }\n}';
    const { placed } = placeDocumentProblems(rootOf(odd), 'document.rules.base-refs.allowed.a: b: expected a repository alias or a glob of one as key');
    expect(placed).toEqual([{ path: 'rules.base-refs.allowed.a: b', line: 5, text: 'expected a repository alias or a glob of one as key' }]);
  });
});
