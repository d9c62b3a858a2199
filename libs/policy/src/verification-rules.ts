import type { PolicyViolation } from './change-evaluation';
import type { EffectivePolicy } from './effective-policy';

/** What the final verification of a change found, in counts. */
export interface VerificationFacts {
  /** Whether the repository's test command started on the changed code. */
  readonly testsRan: boolean;
  readonly testExitCode: number;
  /** Whether the run's own report (JUnit XML) was read, so that testsAfter is known. */
  readonly reportRead: boolean;
  readonly testsAfter: number;
}

/**
 * tests-must-pass (the tests did not run, or exited non-zero) and min-tests-run (fewer
 * tests than the minimum ran, or no report told how many while a minimum is set).
 */
export function evaluateVerification(policy: EffectivePolicy, facts: VerificationFacts): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  if (policy.testsMustPass.required && (!facts.testsRan || facts.testExitCode !== 0)) {
    const detail = facts.testsRan ? `the tests exited with code ${facts.testExitCode}; they must pass` : 'the tests did not run; they must run and pass';
    violations.push({ rule: 'tests-must-pass', level: policy.testsMustPass.level, detail });
  }
  const { min, level } = policy.minTestsRun;
  if (min > 0 && !facts.reportRead) {
    violations.push({ rule: 'min-tests-run', level, detail: `no test report was read, so the run cannot show the ${min} tests required` });
  } else if (facts.testsAfter < min) {
    violations.push({ rule: 'min-tests-run', level, detail: `${facts.testsAfter} tests ran; at least ${min} are required` });
  }
  return violations;
}
