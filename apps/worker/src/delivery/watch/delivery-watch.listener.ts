import type { MergeRequestListener } from '../../jobs/phases/deliver.phase';
import type { DeliveryWatchStore } from './delivery-watch.store';

/**
 * The MergeRequestListener that starts watching each request DELIVER opens, keyed by the
 * chain's first job. A re-run that updated the chain's request keeps the watch it has, so
 * what was sent and when the watch began stay as they were.
 */
export function deliveryWatchListener(store: Pick<DeliveryWatchStore, 'register'>, now: () => number): MergeRequestListener {
  // Async, so that a store that cannot write rejects rather than throws: DELIVER logs a listener's rejection and delivers all the same.
  return async (ctx, { target, published }) => {
    const { number } = published.mergeRequest;
    const started = store.register({ deliveryJobId: target.key, repoAlias: ctx.request.repo.alias, number, registeredAt: now() });
    ctx.logger.info(started ? 'delivery-watch-started' : 'delivery-watch-kept', { deliveryJobId: target.key, number });
  };
}
