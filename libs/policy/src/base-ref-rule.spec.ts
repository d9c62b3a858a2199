import { baseRefGlobMatches, isBaseRefAllowed } from './base-ref-rule';

describe('baseRefGlobMatches', () => {
  it.each([
    ['main', 'main', true],
    ['main', 'mainline', false],
    ['release/*', 'release/1.2', true],
    ['release/*', 'release/', true],
    ['release/*', 'release/1.2/hotfix', false],
    ['release/*', 'release', false],
    ['release-*', 'release-2024.1', true],
    ['*/stable', 'v1/stable', true],
    ['*/stable', 'a/b/stable', false],
    ['*', 'main', true],
    ['*', 'team/main', false],
    ['v1.2', 'v1x2', false],
    ['a+b', 'aab', false],
    ['a+b', 'a+b', true],
    ['(x)', '(x)', true],
  ])('%s against %s is %s', (pattern, ref, expected) => {
    expect(baseRefGlobMatches(pattern, ref)).toBe(expected);
  });
});

describe('isBaseRefAllowed', () => {
  const rule = { allowed: ['main', 'release/*'], forbiddenPrefixes: ['airlock/'] };

  it('allows a listed name or a glob match', () => {
    expect(isBaseRefAllowed('main', rule)).toBe(true);
    expect(isBaseRefAllowed('release/7', rule)).toBe(true);
  });

  it('refuses anything else, an empty name, and anything under a forbidden prefix whatever its case', () => {
    expect(isBaseRefAllowed('develop', rule)).toBe(false);
    expect(isBaseRefAllowed('', { allowed: ['*'], forbiddenPrefixes: [] })).toBe(false);
    const permissive = { allowed: ['*', '*/*'], forbiddenPrefixes: ['airlock/'] };
    expect(isBaseRefAllowed('airlock/job', permissive)).toBe(false);
    expect(isBaseRefAllowed('AIRLOCK/job', permissive)).toBe(false);
    expect(isBaseRefAllowed('airlockx/job', permissive)).toBe(true);
  });

  it('ignores an empty forbidden prefix rather than refusing everything or nothing by accident', () => {
    expect(isBaseRefAllowed('main', { allowed: ['main'], forbiddenPrefixes: [''] })).toBe(true);
  });
});
