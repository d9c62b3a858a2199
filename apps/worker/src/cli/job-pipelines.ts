import { join } from 'node:path';
import { ContextEngine } from '@airlock/context-engine';
import type { WorkerConfig } from '../config/worker-config.loader';
import { DeliveryOutbox } from '../delivery/delivery-outbox';
import { createForgeClient } from '../delivery/forge/forge.factory';
import { deliveryWatchListener } from '../delivery/watch/delivery-watch.listener';
import type { DeliveryWatchStore } from '../delivery/watch/delivery-watch.store';
import type { GitRunner } from '../git/git-runner';
import { EditBlockApplier } from '../jobs/edits/edit-block.applier';
import type { InferenceClient } from '../jobs/inference/inference.client';
import type { JobPipelines } from '../jobs/job.runner';
import { FixJobPipeline } from '../jobs/pipeline/fix-job.pipeline';
import { IndexJobPipeline } from '../jobs/pipeline/index-job.pipeline';
import { ReviewJobPipeline } from '../jobs/pipeline/review-job.pipeline';
import type { JobRecordStore } from '../jobs/record/job-record.store';
import type { TestSandbox } from '../jobs/sandbox/test-sandbox';
import type { DependencyCache } from '../jobs/setup/dependency-cache';
import { SetupRunner } from '../jobs/setup/setup.runner';
import { TestCommandRunner } from '../jobs/test-command.runner';
import type { WorkspaceManager } from '../jobs/workspace/workspace.manager';
import type { Logger } from '../logging/json-logger';
import { ticketCommentListener } from '../tickets/ticket-comment.listener';
import type { TrackerClientFactory } from '../tickets/ticket-tracker';
import { createTicketTracker } from '../tickets/tracker.factory';

/** What the pipelines share with the daemon, built once by `runCommand`. */
export interface JobPipelineDependencies {
  readonly config: WorkerConfig;
  readonly git: GitRunner;
  readonly workspace: WorkspaceManager;
  readonly inference: InferenceClient;
  readonly sandbox: TestSandbox;
  readonly macKey: Buffer;
  readonly logger: Logger;
  readonly records: JobRecordStore;
  readonly dependencyCache: DependencyCache;
  readonly deliveryWatches: DeliveryWatchStore;
  readonly metrics: ConstructorParameters<typeof TestCommandRunner>[3];
}

/**
 * The fix, review and index pipelines of the daemon. Loaded and built on the first job
 * (`lazyJobPipelines` in runCommand): the context engine, the edit parser, setup, delivery and
 * the trackers are modules an idle worker does not need.
 */
export function createJobPipelines({ config, git, workspace, inference, sandbox, macKey, logger, records, dependencyCache, deliveryWatches, metrics }: JobPipelineDependencies): JobPipelines {
  // One tracker client per use (a job's read, a comment): its retry budget is that use's, and it reads the token anew.
  const trackerClient: TrackerClientFactory = (tracker) => createTicketTracker(tracker, config.delivery);
  // Under workspaceDir, which the sandbox hides from the repository's commands like the mirrors. One
  // for fixes and index jobs alike: an index job caches what fixes at that commit then find.
  const contextEngine = new ContextEngine({ cacheDir: join(config.workspaceDir, 'context-index'), git });
  const fix = new FixJobPipeline({
    config,
    git,
    workspace,
    contextEngine,
    // The first endpoint's configured window, as the one normally answering; undefined → the default.
    // The configured window, else what the server says (asked once per endpoint, never failing a job).
    contextWindow: (signal, endpoints) => inference.contextWindow(signal, endpoints),
    inference,
    applier: new EditBlockApplier(),
    testRunner: new TestCommandRunner(config.host, sandbox, config.limits.killGrace, metrics),
    macKey,
    logger,
    records,
    setup: new SetupRunner(new TestCommandRunner(config.host, sandbox, config.limits.killGrace, metrics), sandbox, config),
    dependencyCache,
    delivery: {
      outbox: new DeliveryOutbox(config.delivery.outboxDir, git),
      // One client per delivery: its retry budget is that delivery's, and it reads the token anew.
      forgeClientFor: (forge) => createForgeClient(forge, config.delivery),
      afterMergeRequest: [ticketCommentListener(config.trackers, trackerClient), deliveryWatchListener(deliveryWatches, Date.now)],
    },
    trackerFor: (name) => {
      const tracker = config.trackers.find((entry) => entry.name === name);
      return tracker && trackerClient(tracker);
    },
  });
  const review = new ReviewJobPipeline({
    config,
    git,
    workspace,
    contextWindow: (signal, endpoints) => inference.contextWindow(signal, endpoints),
    inference,
    // One client per review: its retry budget is that review's, and it reads the token anew.
    forgeClientFor: (forge) => createForgeClient(forge, config.delivery),
    logger,
    records,
  });
  return { fix, review, index: new IndexJobPipeline({ workspace, contextEngine, logger, records }) };
}
