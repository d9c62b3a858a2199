import { FailureCode } from '@airlock/protocol';
import { type SuiteRun, judgeChange, reproducesProblem } from './change-verdict';
import { TestReport } from './test-report';

const run = (exitCode: number, statuses?: Record<string, 'passed' | 'failed' | 'skipped'>): SuiteRun => {
  let report: TestReport | undefined;
  if (statuses !== undefined) {
    report = new TestReport();
    for (const [id, status] of Object.entries(statuses)) report.add(id, status);
  }
  return { started: true, exitCode, timedOut: false, report };
};

const verdictOf = (base: SuiteRun, after: SuiteRun) => {
  const { verdict } = judgeChange(base, after);
  return verdict.kind === 'rejected' ? verdict.failureCode : verdict.kind;
};

describe('judgeChange', () => {
  describe('by exit code alone (no reports)', () => {
    it.each([
      ['red → green', 1, 0, 'fixed'],
      ['red → red', 1, 1, FailureCode.TESTS_FAILED],
      ['green → red: something that passed fails', 0, 1, FailureCode.TESTS_REGRESSED],
      ['green → green: needs a reproducing test', 0, 0, 'needs-reproduction'],
    ])('%s', (_what, before, after, expected) => {
      expect(verdictOf(run(before), run(after))).toBe(expected);
    });

    it('reports no counts', () => {
      expect(judgeChange(run(1), run(0)).counts).toEqual({ reportRead: false, testsAfter: 0, failingAfter: 0, testsFixed: 0, testsRegressed: 0 });
    });
  });

  describe('by report, test by test', () => {
    it('passes a change that fixes a failing test and breaks none, counting each', () => {
      const { counts, verdict } = judgeChange(run(1, { a: 'failed', b: 'failed', c: 'passed' }), run(0, { a: 'passed', b: 'passed', c: 'passed', d: 'passed' }));
      expect(verdict).toEqual({ kind: 'fixed' });
      expect(counts).toEqual({ reportRead: true, testsAfter: 4, failingAfter: 0, testsFixed: 2, testsRegressed: 0 });
    });

    it('passes a change that fixes one test while an unrelated one that failed at base still fails', () => {
      expect(verdictOf(run(1, { a: 'failed', flaky: 'failed' }), run(1, { a: 'passed', flaky: 'failed' }))).toBe('fixed');
    });

    it('refuses a change that fixes one test and breaks another (TESTS_REGRESSED)', () => {
      const { counts, verdict } = judgeChange(run(1, { a: 'failed', b: 'passed' }), run(1, { a: 'passed', b: 'failed' }));
      expect(verdict).toMatchObject({ kind: 'rejected', failureCode: FailureCode.TESTS_REGRESSED });
      expect(counts).toMatchObject({ testsFixed: 1, testsRegressed: 1 });
    });

    it('refuses a change whose own new test fails (TESTS_FAILED)', () => {
      expect(verdictOf(run(1, { a: 'failed' }), run(1, { a: 'passed', added: 'failed' }))).toBe(FailureCode.TESTS_FAILED);
    });

    it('refuses a change that fixes nothing, even if it skips the failing test', () => {
      expect(verdictOf(run(1, { a: 'failed', b: 'passed' }), run(0, { a: 'skipped', b: 'passed' }))).toBe(FailureCode.TESTS_FAILED);
    });

    it('refuses a non-zero exit the report does not explain (a crash after the report, a coverage gate)', () => {
      expect(verdictOf(run(1, { a: 'failed' }), run(3, { a: 'passed' }))).toBe(FailureCode.TESTS_FAILED);
    });

    it('treats a test reported twice as failed if either run of it failed', () => {
      const after = new TestReport();
      after.add('a', 'passed');
      after.add('a', 'failed');
      expect(verdictOf(run(1, { a: 'failed' }), { started: true, exitCode: 1, timedOut: false, report: after })).toBe(FailureCode.TESTS_FAILED);
    });

    it('asks for a reproduction when every test passed at base and still does', () => {
      expect(verdictOf(run(0, { a: 'passed' }), run(0, { a: 'passed', b: 'passed' }))).toBe('needs-reproduction');
    });

    it('calls a green base turned red by a new test TESTS_FAILED, by an old one TESTS_REGRESSED', () => {
      expect(verdictOf(run(0, { a: 'passed' }), run(1, { a: 'passed', b: 'failed' }))).toBe(FailureCode.TESTS_FAILED);
      expect(verdictOf(run(0, { a: 'passed' }), run(1, { a: 'failed' }))).toBe(FailureCode.TESTS_REGRESSED);
    });
  });
});

describe('reproducesProblem', () => {
  it('holds for a run that started and failed or hung, not for one that passed or never started', () => {
    expect(reproducesProblem(run(1))).toBe(true);
    expect(reproducesProblem({ ...run(137), timedOut: true })).toBe(true);
    expect(reproducesProblem(run(0))).toBe(false);
    expect(reproducesProblem(run(0, { a: 'failed' }))).toBe(true);
    expect(reproducesProblem({ ...run(127), started: false })).toBe(false);
  });
});
