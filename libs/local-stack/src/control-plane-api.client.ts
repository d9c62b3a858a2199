/** The subset of the control plane's REST API that the demo, e2e tests and benchmarks use. */
export interface JobAttemptView {
  readonly number: number;
  readonly workerId: string;
  readonly status: string;
  readonly dispatchedAt: string | null;
  readonly ackedAt: string | null;
  readonly finishedAt: string | null;
  readonly failureCode: string | null;
}

export interface JobEventView {
  readonly type: string;
  readonly attempt: number | null;
  readonly phase: string | null;
  readonly failureCode: string | null;
  readonly at: string;
}

export interface JobView {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly currentAttempt: number;
  readonly failureCode: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly attempts: readonly JobAttemptView[];
  readonly events: readonly JobEventView[];
  readonly result: Record<string, unknown> | null;
  readonly [key: string]: unknown;
}

export interface WorkerView {
  readonly id: string;
  readonly status: string;
  readonly [key: string]: unknown;
}

export const TERMINAL_JOB_STATUSES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** A thin, typed REST client. Every call has a deadline. */
export class ControlPlaneApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  private async expectOk<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: responseBody } = await this.request<T>(method, path, body);
    if (status < 200 || status >= 300) {
      throw new Error(`${method} ${path} answered ${status}: ${JSON.stringify(responseBody)}`);
    }
    return responseBody;
  }

  createEnrollmentToken(): Promise<{ token: string; expiresAt: string }> {
    return this.expectOk('POST', '/enrollment-tokens', {});
  }

  signingKeys(): Promise<Array<{ keyId: string; publicKey: string }>> {
    return this.expectOk('GET', '/signing-keys');
  }

  workers(): Promise<WorkerView[]> {
    return this.expectOk('GET', '/workers');
  }

  createFixJob(input: { repoAlias: string; baseRef: string; ticket: { title: string; description: string } }): Promise<JobView> {
    return this.expectOk('POST', '/jobs', { kind: 'fix', ...input });
  }

  /** Creates a no-op job; with `pool`, only a worker of that pool is given it. */
  createNoopJob(pool?: string): Promise<JobView> {
    return this.expectOk('POST', '/jobs', { kind: 'noop', ...(pool ? { pool } : {}) });
  }

  /** Asks for a job to be cancelled; the caller checks the status (200 ended, 202 requested, 409 already over). */
  cancelJob(id: string): Promise<{ status: number; body: JobView }> {
    return this.request<JobView>('POST', `/jobs/${id}/cancel`);
  }

  /** Re-runs a finished job as a new one, which delivers to the same branch and merge request. */
  rerunJob(id: string): Promise<JobView> {
    return this.expectOk('POST', `/jobs/${id}/retry`);
  }

  job(id: string): Promise<JobView> {
    return this.expectOk('GET', `/jobs/${id}`);
  }

  /** Polls a job until it is terminal, calling `onUpdate` whenever it changed. */
  async waitForTerminalJob(id: string, timeoutMs: number, onUpdate?: (job: JobView) => void): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    let seenEvents = -1;
    for (;;) {
      const job = await this.job(id);
      if (job.events.length !== seenEvents) {
        seenEvents = job.events.length;
        onUpdate?.(job);
      }
      if (TERMINAL_JOB_STATUSES.has(job.status)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
