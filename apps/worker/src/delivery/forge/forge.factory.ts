import type { DeliveryConfig, ForgeConfig } from '../../config/worker-config.loader';
import type { ClosableForgeClient } from './forge-client';
import { GiteaForge } from './gitea.forge';
import { GitHubForge } from './github.forge';
import { GitLabForge } from './gitlab.forge';

/**
 * The client of a repository's forge. One per delivery: its retry budget covers that
 * delivery alone, and it reads the token anew, so a rotated token needs no restart.
 */
export function createForgeClient(forge: ForgeConfig, delivery: Pick<DeliveryConfig, 'maxRetries' | 'retryBudgetMs'>): ClosableForgeClient {
  switch (forge.type) {
    case 'gitlab':
      return new GitLabForge(forge, delivery);
    case 'github':
      return new GitHubForge(forge, delivery);
    case 'gitea':
      return new GiteaForge(forge, delivery);
  }
}
