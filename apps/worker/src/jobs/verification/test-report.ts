/** How one test case ended in a run. */
export type TestStatus = 'passed' | 'failed' | 'skipped';

/**
 * Which tests ran and how each ended, as the runner's own report (JUnit XML) says. Test
 * identities stay on the worker (they name files and functions): only counts derived
 * from reports cross the boundary.
 */
export class TestReport {
  private readonly statuses = new Map<string, TestStatus>();

  /** Adds a case; one id reported twice (a retried or parameterised test) is failed if either run failed. */
  add(id: string, status: TestStatus): void {
    const previous = this.statuses.get(id);
    if (previous === 'failed') return;
    if (previous === 'passed' && status === 'skipped') return;
    this.statuses.set(id, status);
  }

  /** Merges another report (several JUnit files) into this one. */
  addAll(other: TestReport): void {
    for (const [id, status] of other.statuses) this.add(id, status);
  }

  statusOf(id: string): TestStatus | undefined {
    return this.statuses.get(id);
  }

  /** Ids of the cases that ended with `status`. */
  idsWith(status: TestStatus): string[] {
    return [...this.statuses].filter(([, s]) => s === status).map(([id]) => id);
  }

  /** Cases that ran (passed or failed); skipped ones did not. */
  get ran(): number {
    return this.idsWith('passed').length + this.idsWith('failed').length;
  }

  get failing(): number {
    return this.idsWith('failed').length;
  }
}
