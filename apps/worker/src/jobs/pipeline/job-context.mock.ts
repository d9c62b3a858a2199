import { JsonLogger } from '../../logging/json-logger';
import type { JobPolicy } from '../../policy/job-policy';
import { localJobPolicy } from '../../policy/local-job-policy.mock';
import type { JobRecorder } from '../record/job-recorder';
import { InMemoryJobRecorder } from '../record/job-recorder.mock';
import { JobContext, type ProgressListener } from './job-context';

/** A JobContext over a fake request, with the progress events and local log lines it produced. */
export interface FakeJobContext {
  readonly ctx: JobContext;
  /** `"<phase> <state>"` for each progress event. */
  readonly events: string[];
  /** Each local log line, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  /** The attempt's record, in memory unless the test handed in its own recorder. */
  readonly record: JobRecorder;
}

/** Builds a JobContext for job `job-1`, attempt 2, on repository `demo`, for unit tests of phases and the runner. */
export function fakeJobContext(
  options: {
    readonly signal?: AbortSignal;
    readonly progress?: ProgressListener;
    readonly record?: JobRecorder;
    /** @default `{ title: 'Fix add', description: '' }`, unless the ticket is named by `ticketRef` */
    readonly ticket?: { readonly title: string; readonly description: string };
    /** A ticket named by reference, `<tracker>:<key>`: the task then carries no ticket text, as on the wire. */
    readonly ticketRef?: string;
    /** @default the local policy of a worker with the config's defaults */
    readonly policy?: JobPolicy;
  } = {},
): FakeJobContext {
  const events: string[] = [];
  const record = options.record ?? new InMemoryJobRecorder();
  const logs: Array<Record<string, unknown>> = [];
  const ctx = new JobContext(
    {
      jobId: 'job-1',
      attempt: 2,
      task: {
        repoAlias: 'demo',
        baseRef: 'main',
        ticketRef: options.ticketRef ?? '',
        deliveryJobId: '',
        deliveryGeneration: 0,
        ticket: options.ticketRef === undefined ? (options.ticket ?? { title: 'Fix add', description: '' }) : null,
      },
      repo: { alias: 'demo', cloneUrl: '/nowhere', pushUrl: '/nowhere', branchPrefix: 'airlock/', baseRefs: ['main'] },
      policy: options.policy ?? localJobPolicy(),
      signal: options.signal ?? new AbortController().signal,
      progress: options.progress ?? ((phase, state) => events.push(`${phase} ${state}`)),
      confirmLease: () => Promise.resolve(),
    },
    new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    record,
  );
  return { ctx, events, logs, record };
}
