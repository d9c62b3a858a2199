import type { DeliveryConfig, ForgeTokenSource } from '../../config/worker-config.loader';
import { ForgeHttp, type ForgeHttpOptions } from './forge-http';
import { headerSafeToken } from './forge-token';

/** What a GitLab client needs of its config entry, a repository's forge or a tracker alike. */
export interface GitLabEndpoint {
  readonly apiUrl: string;
  readonly token: ForgeTokenSource;
  readonly caPem?: Buffer | undefined;
  readonly timeoutMs: number;
}

/** The transport to GitLab's REST API v4, authenticated with `PRIVATE-TOKEN` read per request (a rotated token needs no restart). */
export function gitLabHttp(endpoint: GitLabEndpoint, retries: Pick<DeliveryConfig, 'maxRetries' | 'retryBudgetMs'>, options: { readonly sleep?: ForgeHttpOptions['sleep'] } = {}): ForgeHttp {
  return new ForgeHttp({
    forge: 'GitLab',
    apiUrl: endpoint.apiUrl,
    headers: async () => ({ 'PRIVATE-TOKEN': await headerSafeToken('GitLab', endpoint.token) }),
    caPem: endpoint.caPem,
    timeoutMs: endpoint.timeoutMs,
    maxRetries: retries.maxRetries,
    retryBudgetMs: retries.retryBudgetMs,
    ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
  });
}
