import { ForgeError, type MergeRequest, type MergeRequestDraft, type MergeRequestPublishing } from './forge/forge-client';

/** A merge request the in-memory forge holds, with the draft it was last given. */
export interface HeldMergeRequest extends MergeRequest {
  readonly draft: MergeRequestDraft;
}

type ForgeMethod = 'findOpen' | 'open' | 'update';
/** What the next call of a method meets: a failure it throws, or something that happens on the forge first (another client's work). */
type Interception = ForgeError | ((forge: InMemoryForge) => void);

/**
 * A forge in memory for delivery tests, behaving as the real ones do: requests numbered
 * from 1 in opening order, one request per source branch (a second `open` fails
 * `conflict`), `update` of an unknown request fails `not-found`. `intercept`
 * makes the next call of a method fail with a ForgeError, or lets something happen on the
 * forge just before it, such as another delivery opening the request.
 */
export class InMemoryForge implements MergeRequestPublishing {
  readonly requests: HeldMergeRequest[] = [];
  /** Every call, in order, by method name. */
  readonly calls: ForgeMethod[] = [];
  closed = false;
  private readonly interceptions: Array<{ readonly method: ForgeMethod; readonly interception: Interception }> = [];

  constructor(private readonly webRoot = 'https://forge.corp.example/group/project/-/merge_requests') {}

  intercept(method: ForgeMethod, interception: Interception): this {
    this.interceptions.push({ method, interception });
    return this;
  }

  /** Opens a request as another client would, bypassing interceptions and the call log. */
  openDirectly(draft: MergeRequestDraft): HeldMergeRequest {
    if (this.openFor(draft.sourceBranch) !== undefined) throw new ForgeError('conflict', `a request for ${draft.sourceBranch} is already open`, 409);
    const request: HeldMergeRequest = { number: this.requests.length + 1, webUrl: `${this.webRoot}/${this.requests.length + 1}`, state: 'open', draft };
    this.requests.push(request);
    return request;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  findOpen(sourceBranch: string, signal: AbortSignal): Promise<MergeRequest | undefined> {
    return this.call('findOpen', signal, () => {
      const open = this.openFor(sourceBranch);
      return open === undefined ? undefined : summaryOf(open);
    });
  }

  open(draft: MergeRequestDraft, signal: AbortSignal): Promise<MergeRequest> {
    return this.call('open', signal, () => summaryOf(this.openDirectly(draft)));
  }

  update(number: number, draft: MergeRequestDraft, signal: AbortSignal): Promise<MergeRequest> {
    return this.call('update', signal, () => {
      const held = this.requests.find((request) => request.number === number);
      if (held === undefined) throw new ForgeError('not-found', `no request ${number}`, 404);
      const updated: HeldMergeRequest = { ...held, draft: { ...draft, sourceBranch: held.draft.sourceBranch } };
      this.requests[this.requests.indexOf(held)] = updated;
      return summaryOf(updated);
    });
  }

  private async call<T>(method: ForgeMethod, signal: AbortSignal, answer: () => T): Promise<T> {
    signal.throwIfAborted();
    this.calls.push(method);
    const next = this.interceptions.find((entry) => entry.method === method);
    if (next !== undefined) {
      this.interceptions.splice(this.interceptions.indexOf(next), 1);
      if (next.interception instanceof ForgeError) throw next.interception;
      next.interception(this);
    }
    return answer();
  }

  private openFor(sourceBranch: string): HeldMergeRequest | undefined {
    return this.requests.find((request) => request.draft.sourceBranch === sourceBranch);
  }
}

function summaryOf(request: HeldMergeRequest): MergeRequest {
  return { number: request.number, webUrl: request.webUrl, state: request.state };
}
