import { compactJson, formatJson, lineOfPath, locatePath, parseJsonWithLines, type JsonNode } from './json-text';

function rootOf(text: string): JsonNode {
  const parsed = parseJsonWithLines(text);
  if (!parsed.ok) throw new Error(`unexpected syntax error: ${parsed.error.message}`);
  return parsed.root;
}

describe('parsing JSON with the line of every member', () => {
  const text = [
    '{', //                                                    1
    '  "schemaVersion": 1,', //                                2
    '  "rules": {', //                                         3
    '    "max-files-changed": { "max": 0 },', //               4
    '    "protected-paths": {', //                             5
    '      "paths": [', //                                     6
    '        ".github/**",', //                                7
    '        "/etc/passwd"', //                                8
    '      ]', //                                              9
    '    },', //                                               10
    '    "base-refs": { "allowed": { "ledger.v2": ["main"] } },', // 11
    '    "secrets":', //                                       12
    '      { "enabled": "yes" }', //                           13
    '  }', //                                                  14
    '}', //                                                    15
  ].join('\n');

  it('gives the value JSON.parse gives', () => {
    const parsed = parseJsonWithLines(text);
    expect(parsed.ok && parsed.value).toEqual(JSON.parse(text));
  });

  it('finds the line of a member, an item, and a member whose value starts on the next line', () => {
    const root = rootOf(text);
    expect(lineOfPath(root, 'schemaVersion')).toBe(2);
    expect(lineOfPath(root, 'rules.max-files-changed.max')).toBe(4);
    expect(lineOfPath(root, 'rules.protected-paths.paths[1]')).toBe(8);
    expect(lineOfPath(root, 'rules.secrets')).toBe(12);
    expect(lineOfPath(root, 'rules.secrets.enabled')).toBe(13);
    expect(lineOfPath(root, '')).toBe(1);
  });

  it('follows member names with dots in them, written plainly (as errors do) or quoted (as diffs do)', () => {
    const root = rootOf(text);
    expect(locatePath(root, 'rules.base-refs.allowed.ledger.v2[0]')).toMatchObject({ complete: true, node: { line: 11 } });
    expect(locatePath(root, 'rules.base-refs.allowed["ledger.v2"]')).toMatchObject({ complete: true, node: { line: 11 } });
  });

  it('stops at the nearest value the text has when the path names a missing member', () => {
    const root = rootOf(text);
    expect(locatePath(root, 'rules.max-lines-changed.max')).toMatchObject({ complete: false, node: { line: 3 } });
    expect(locatePath(root, 'rules.protected-paths.paths[7]')).toMatchObject({ complete: false, node: { line: 6 } });
  });

  it('places the last of duplicate members, as JSON.parse keeps the last', () => {
    const root = rootOf('{\n  "a": 1,\n  "a": 2\n}');
    expect(lineOfPath(root, 'a')).toBe(3);
  });

  it.each([
    ['{\n  "a": 1,\n}', 3, 1, 'trailing comma'],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, '"," or "}" after a member'],
    ["{\n  'a': 1\n}", 2, 3, 'member name in double quotes'],
    ['{\n  "a": tru\n}', 2, 8, 'expected a value'],
    ['{\n  "a": "open\n}', 2, 8, 'not closed on its line'],
    ['{ "a": [1, 2,] }', 1, 14, 'trailing comma'],
    ['{ "a": 1 } x', 1, 12, 'nothing after the end'],
    ['  ', 1, 3, 'empty'],
    ['{ "a": "\\q" }', 1, 9, 'not an escape'],
    ['{ "a" 1 }', 1, 7, '":" after the member name "a"'],
    ['{ "a": 01 }', 1, 9, '"," or "}"'],
  ])('reports %j as a syntax error at line %i, column %i (%s)', (source, line, column, words) => {
    const parsed = parseJsonWithLines(source);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toMatchObject({ line, column });
    expect(parsed.error.message).toContain(words);
  });

  it('accepts what JSON.parse accepts: escapes, numbers, literals, nesting, any whitespace', () => {
    const source = '\r\n\t{"s": "a\\"b\\\\c\\u00e9\\n", "n": [-0.5e+3, 0, 12], "t": true, "f": false, "z": null, "o": {"": {}}, "l": [[], [{}]]}  ';
    const parsed = parseJsonWithLines(source);
    expect(parsed.ok && parsed.value).toEqual(JSON.parse(source));
  });
});

describe('laying JSON out for reading', () => {
  it('opens the first levels one member per line and keeps what fits on a line below them', () => {
    const document = { schemaVersion: 1, rules: { 'max-files-changed': { max: 10 }, repositories: { allowed: ['a'] } } };
    expect(formatJson(document)).toBe(['{', '  "schemaVersion": 1,', '  "rules": { "max-files-changed": { "max": 10 }, "repositories": { "allowed": ["a"] } }', '}'].join('\n'));
    expect(formatJson(document, 2)).toBe(
      ['{', '  "schemaVersion": 1,', '  "rules": {', '    "max-files-changed": { "max": 10 },', '    "repositories": { "allowed": ["a"] }', '  }', '}'].join('\n'),
    );
  });

  it('opens an object or a list that does not fit on its line', () => {
    const paths = Array.from({ length: 8 }, (_, index) => `services/service-${index}/deploy/**`);
    const text = formatJson({ rules: { 'protected-paths': { paths } } });
    expect(text.split('\n')).toEqual(['{', '  "rules": {', '    "protected-paths": {', '      "paths": [', ...paths.map((path, index) => `        "${path}"${index < 7 ? ',' : ''}`), '      ]', '    }', '  }', '}']);
    expect(JSON.parse(text)).toEqual({ rules: { 'protected-paths': { paths } } });
  });

  it('writes empty objects and lists, and values one line long', () => {
    expect(formatJson({})).toBe('{}');
    expect(compactJson({ a: [], b: {}, c: 'x', d: null })).toBe('{ "a": [], "b": {}, "c": "x", "d": null }');
  });
});
