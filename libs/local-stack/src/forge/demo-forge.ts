import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startForgeDouble, type ForgeApi, type ForgeDouble, type ForgeFlavour } from './forge-double';
import { giteaApi } from './gitea.api';
import { githubApi } from './github.api';
import { gitlabApi } from './gitlab.api';

/** The demo repository's project on the forge double. */
export const DEMO_FORGE_PROJECT = 'acme/demo-billing';
/** The forge user whose token the worker holds: the author of its merge requests. */
export const DEMO_FORGE_BOT = 'airlock-bot';
/** People the forge knows, who may be asked to review. */
export const DEMO_FORGE_PEOPLE = ['alice', 'bob'] as const;

const FORGE_APIS: Readonly<Record<ForgeFlavour, ForgeApi>> = { gitlab: gitlabApi, github: githubApi, gitea: giteaApi };

/** The forge section of the demo repository's catalog entry: labels, reviewers, draft. */
export interface DemoForgeOptions {
  readonly flavour: ForgeFlavour;
  readonly labels?: readonly string[];
  readonly reviewers?: readonly string[];
  readonly draft?: boolean;
  /** The API token the worker holds (default: a fresh one per start). */
  readonly token?: string;
}

export interface DemoForge {
  readonly double: ForgeDouble;
  /** The `forge:` block of the demo repository in the worker's config. */
  readonly workerConfig: Readonly<Record<string, unknown>>;
}

/**
 * A forge double of the chosen flavour in front of the demo repository's bare repository,
 * with a token for the worker in a file of its own (0600), as a customer would keep it.
 */
export async function startDemoForge(options: DemoForgeOptions, demoRepositoryPath: string, secretsDir: string): Promise<DemoForge> {
  const token = options.token ?? `demo-${options.flavour}-token-${process.pid}-${Date.now().toString(36)}`;
  const tokenFile = join(secretsDir, `${options.flavour}-token`);
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const labels = options.labels ?? [];
  const double = await startForgeDouble(FORGE_APIS[options.flavour], {
    projects: { [DEMO_FORGE_PROJECT]: demoRepositoryPath },
    tokens: { [token]: DEMO_FORGE_BOT },
    users: [...DEMO_FORGE_PEOPLE],
    labels,
  });
  return {
    double,
    workerConfig: {
      type: options.flavour,
      apiUrl: double.apiUrl,
      project: DEMO_FORGE_PROJECT,
      tokenFile,
      labels: [...labels],
      reviewers: [...(options.reviewers ?? [])],
      draft: options.draft ?? false,
    },
  };
}
