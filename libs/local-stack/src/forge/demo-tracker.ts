import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_FORGE_BOT, DEMO_FORGE_PROJECT } from './demo-forge';
import { type ForgeDouble, startForgeDouble } from './forge-double';
import { gitlabApi } from './gitlab.api';
import { jiraApi } from './jira.api';

/** The trackers the demo can name its ticket in. */
export type DemoTrackerFlavour = 'jira' | 'gitlab';

/** The tracker's name in the worker's catalog: the part before the colon of a ticket reference. */
export const DEMO_TRACKER_NAME = 'tickets';
/** The Jira project the demo ticket is filed in. */
export const DEMO_JIRA_PROJECT = 'BILL';
/** The demo ticket's key on each tracker: a Jira issue key, a GitLab issue number (in DEMO_FORGE_PROJECT). */
export const DEMO_TICKET_KEYS: Readonly<Record<DemoTrackerFlavour, string>> = { jira: `${DEMO_JIRA_PROJECT}-42`, gitlab: '42' };

/** The reference a job names the demo ticket by on a `flavour` tracker: `<DEMO_TRACKER_NAME>:<key>`. */
export function demoTicketRef(flavour: DemoTrackerFlavour): string {
  return `${DEMO_TRACKER_NAME}:${DEMO_TICKET_KEYS[flavour]}`;
}

export interface DemoTrackerOptions {
  readonly flavour: DemoTrackerFlavour;
  /** Whether the worker posts the merge request's link on the ticket (default false). */
  readonly comment?: boolean;
  /** The API token the worker holds (default: a fresh one per start). */
  readonly token?: string;
}

export interface DemoTracker {
  readonly double: ForgeDouble;
  /** The `trackers:` entry of the worker's config. */
  readonly workerConfig: Readonly<Record<string, unknown>>;
}

/**
 * A tracker double of the chosen flavour holding one issue, `ticket`, under the flavour's
 * DEMO_TICKET_KEYS key, with a token for the worker in a file of its own (0600). A GitLab
 * tracker is a double of its own even beside a GitLab forge double: the demo keeps the two
 * apart, as an organisation may. Its issue belongs to the demo repository's project.
 */
export async function startDemoTracker(
  options: DemoTrackerOptions,
  ticket: { readonly title: string; readonly description: string },
  demoRepositoryPath: string,
  secretsDir: string,
): Promise<DemoTracker> {
  const token = options.token ?? `demo-${options.flavour}-tracker-token-${process.pid}-${Date.now().toString(36)}`;
  const tokenFile = join(secretsDir, `${options.flavour}-tracker-token`);
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const gitlab = options.flavour === 'gitlab';
  const double = await startForgeDouble(gitlab ? gitlabApi : jiraApi, {
    projects: gitlab ? { [DEMO_FORGE_PROJECT]: demoRepositoryPath } : {},
    tokens: { [token]: DEMO_FORGE_BOT },
  });
  double.state.addIssue({ project: gitlab ? DEMO_FORGE_PROJECT : DEMO_JIRA_PROJECT, key: DEMO_TICKET_KEYS[options.flavour], title: ticket.title, description: ticket.description });
  return {
    double,
    workerConfig: {
      name: DEMO_TRACKER_NAME,
      type: options.flavour,
      // Jira is configured by its base URL, under which its REST API lives; GitLab by its API root.
      apiUrl: gitlab ? double.apiUrl : double.origin,
      ...(gitlab ? { project: DEMO_FORGE_PROJECT } : {}),
      tokenFile,
      comment: options.comment ?? false,
    },
  };
}
