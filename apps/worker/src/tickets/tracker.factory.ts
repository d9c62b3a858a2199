import type { DeliveryConfig, TrackerConfig } from '../config/worker-config.loader';
import { GitLabIssueTracker } from './gitlab-issue.tracker';
import { JiraTracker } from './jira.tracker';
import type { TicketTracker } from './ticket-tracker';

/**
 * The client of a configured tracker. One per use (a job's read, a comment): its retry
 * budget covers that use alone, and it reads the token anew, so a rotated token needs no
 * restart. Tracker requests are retried within the same bounds as forge requests
 * (`delivery.maxRetries`, `delivery.retryBudget`).
 */
export function createTicketTracker(tracker: TrackerConfig, retries: Pick<DeliveryConfig, 'maxRetries' | 'retryBudgetMs'>): TicketTracker {
  switch (tracker.type) {
    case 'jira':
      return new JiraTracker(tracker, retries);
    case 'gitlab':
      return new GitLabIssueTracker(tracker, retries);
  }
}
