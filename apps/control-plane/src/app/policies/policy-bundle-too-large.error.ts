import { DomainError } from '../common/domain.error';

/** The publish would give some worker a bundle the wire (or the worker's schema) cannot carry; nothing changed. */
export class PolicyBundleTooLargeError extends DomainError {
  override readonly name = 'PolicyBundleTooLargeError';
  readonly code = 'POLICY_BUNDLE_TOO_LARGE';

  constructor(problem: string) {
    super(`not published: in the largest bundle a worker could receive, ${problem}; make the documents smaller or publish fewer layers`);
  }
}
