import { localEffectivePolicy, type EffectivePolicy } from './effective-policy';
import { evaluateVerification } from './verification-rules';

const local = (rules: Parameters<typeof localEffectivePolicy>[0]['rules'] = {}): EffectivePolicy =>
  localEffectivePolicy({
    allowedTaskKinds: ['fix'],
    repoAliases: [],
    baseRefRules: new Map(),
    endpointNames: [],
    maxChangedFiles: 25,
    maxChangedLines: 2_000,
    maxJobTokens: 200_000,
    agentTimeoutMs: 1_200_000,
    rules,
  });

const passed = { testsRan: true, testExitCode: 0, reportRead: true, testsAfter: 40 };

describe('evaluateVerification', () => {
  it('finds nothing when the tests ran and passed', () => {
    expect(evaluateVerification(local({ 'min-tests-run': { min: 40, level: 'mandatory' } }), passed)).toEqual([]);
  });

  it('tests-must-pass: refuses tests that failed or did not run, by default', () => {
    expect(evaluateVerification(local(), { ...passed, testExitCode: 1 })).toEqual([{ rule: 'tests-must-pass', level: 'mandatory', detail: 'the tests exited with code 1; they must pass' }]);
    expect(evaluateVerification(local(), { ...passed, testsRan: false, testExitCode: 0 })).toEqual([{ rule: 'tests-must-pass', level: 'mandatory', detail: 'the tests did not run; they must run and pass' }]);
  });

  it('tests-must-pass: says nothing when the rule does not require it, and carries its level', () => {
    expect(evaluateVerification(local({ 'tests-must-pass': { required: false, level: 'mandatory' } }), { ...passed, testExitCode: 2 })).toEqual([]);
    expect(evaluateVerification(local({ 'tests-must-pass': { required: true, level: 'advisory' } }), { ...passed, testExitCode: 2 })).toMatchObject([{ level: 'advisory' }]);
  });

  it('min-tests-run: refuses fewer tests than the minimum, or no report to count them', () => {
    const min = local({ 'min-tests-run': { min: 41, level: 'advisory' } });
    expect(evaluateVerification(min, passed)).toEqual([{ rule: 'min-tests-run', level: 'advisory', detail: '40 tests ran; at least 41 are required' }]);
    expect(evaluateVerification(min, { ...passed, reportRead: false, testsAfter: 0 })).toEqual([
      { rule: 'min-tests-run', level: 'advisory', detail: 'no test report was read, so the run cannot show the 41 tests required' },
    ]);
  });

  it('min-tests-run: an unread report is fine when no minimum is set', () => {
    expect(evaluateVerification(local(), { ...passed, reportRead: false, testsAfter: 0 })).toEqual([]);
  });

  it('reports both rules when both are broken', () => {
    expect(evaluateVerification(local({ 'min-tests-run': { min: 1, level: 'mandatory' } }), { testsRan: false, testExitCode: 0, reportRead: false, testsAfter: 0 }).map((v) => v.rule)).toEqual([
      'tests-must-pass',
      'min-tests-run',
    ]);
  });
});
