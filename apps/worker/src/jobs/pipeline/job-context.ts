import type { RepositoryIndex } from '@airlock/context-engine';
import type { FixTask__Output, PhaseState } from '@airlock/protocol';
import type { RepositoryConfig } from '../../config/worker-config.loader';
import type { Logger } from '../../logging/json-logger';
import type { JobPolicy } from '../../policy/job-policy';
import type { AgentOutcome } from '../agent/agent-loop';
import type { ContextSelection } from '../context/context-selection';
import type { SuiteRun } from '../verification/change-verdict';
import { JobResultBuilder, type PhaseName } from '../job-result.builder';
import type { RepoConfig } from '../repo-config/repo-config.schema';
import type { JobRecorder } from '../record/job-recorder';
import type { JobWorkspace } from '../workspace/workspace.manager';

/** Reports a phase starting, completing or failing (sent upstream as ProgressEvent). */
export type ProgressListener = (phase: PhaseName, state: (typeof PhaseState)[keyof typeof PhaseState]) => void;

/**
 * Resolves once the attempt is shown to still hold its lease, or throws a JobPhaseFailedError
 * (LEASE_UNCONFIRMED, AUDIT_LOG_UNAVAILABLE). Delivery calls it last thing before the push,
 * so a fenced attempt never delivers over the attempt that replaced it.
 */
export type LeaseGuard = (signal: AbortSignal) => Promise<void>;

/** One attempt of a task on a repository, as the daemon hands it over: what every kind of job shares. */
export interface AttemptRequest {
  readonly jobId: string;
  readonly attempt: number;
  readonly repo: RepositoryConfig;
  /** The policy the instruction was admitted under: the job runs under it to the end. */
  readonly policy: JobPolicy;
  /** Fires on cancel, shutdown or the local job timeout; see `abortFailureCode`. */
  readonly signal: AbortSignal;
  readonly progress: ProgressListener;
  readonly confirmLease: LeaseGuard;
}

/** One attempt of a fix task. */
export interface FixJobRequest extends AttemptRequest {
  readonly task: FixTask__Output;
}

/** What a phase hands on to the phases after it; each entry is provided once, by the phase named. */
export interface JobState {
  /** TICKET: the ticket read from the customer's tracker, bounded, when the task named it by reference. */
  readonly ticket: { readonly title: string; readonly description: string };
  /** WORKSPACE: the attempt's worktree and the commit it starts from. */
  readonly workspace: JobWorkspace;
  /** WORKSPACE: the repository's `.airlock.yml`, read from the pristine checkout before any edit. */
  readonly repoConfig: RepoConfig;
  /** BASELINE: the test command's run at the base commit, before any change. */
  readonly baseline: SuiteRun;
  /** CONTEXT: the context engine's index of the base commit, for the agent's `search_code`. */
  readonly repositoryIndex: RepositoryIndex;
  /** CONTEXT: the files and definitions the model is shown first. */
  readonly context: ContextSelection;
  /** INFERENCE: what the agent loop did: the files its edits wrote. */
  readonly agent: AgentOutcome;
}

/**
 * Everything the phases of one attempt share, whatever its task: the request, the metadata
 * result being built, a logger bound to the attempt, what earlier phases produced (`S`: each
 * kind of job has its own), and what must be released when the attempt ends however it ends.
 */
export class AttemptContext<R extends AttemptRequest = AttemptRequest, S extends object = object> {
  /** `<jobId>-<attempt>`: names the attempt's worktree and log files. */
  readonly jobKey: string;
  readonly report: JobResultBuilder;
  protected readonly state: { -readonly [K in keyof S]?: S[K] } = {};
  private readonly releases: Array<() => Promise<void>> = [];

  constructor(
    readonly request: R,
    /** Local only: it may name files, hosts and commands. */
    readonly logger: Logger,
    /** The customer's local record of the attempt (prompts, answers, patches and their verdicts); best effort, never throws. */
    readonly record: JobRecorder,
  ) {
    this.jobKey = `${request.jobId}-${request.attempt}`;
    this.report = new JobResultBuilder(request.jobId, request.attempt);
  }

  get signal(): AbortSignal {
    return this.request.signal;
  }

  /** Hands `value` on to later phases. */
  provide<K extends keyof S>(key: K, value: S[K]): void {
    this.state[key] = value;
  }

  /** What an earlier phase provided; throws if none did, i.e. the phases are out of order. */
  need<K extends keyof S>(key: K): S[K] {
    const value = this.state[key];
    if (value === undefined) throw new Error(`job state '${String(key)}' is needed before any phase provided it`);
    return value as S[K];
  }

  /** Registers work to undo when the attempt ends (a worktree to remove); run last first. */
  onRelease(release: () => Promise<void>): void {
    this.releases.push(release);
  }

  /** Runs every registered release, newest first. Never throws: a failed release is logged. */
  async release(): Promise<void> {
    for (const release of this.releases.splice(0).reverse()) {
      try {
        await release();
      } catch (error) {
        this.logger.warn('job-release-failed', { error: error instanceof Error ? error : String(error) });
      }
    }
  }
}

/** What WORKSPACE hands on, whichever job checked the repository out at a base branch. */
export type WorkspaceState = Pick<JobState, 'workspace' | 'repoConfig'>;

/** The context of a fix attempt: its phases share JobState, and the ticket. */
export class JobContext extends AttemptContext<FixJobRequest, JobState> {
  /**
   * The ticket's title and description: as TICKET read them from the tracker when the task
   * named the ticket by reference, else as the instruction carried them (empty strings when it
   * left them out).
   */
  get ticket(): { readonly title: string; readonly description: string } {
    return this.state.ticket ?? { title: this.request.task.ticket?.title ?? '', description: this.request.task.ticket?.description ?? '' };
  }
}
