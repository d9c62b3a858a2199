import { FailureCode } from '@airlock/protocol';
import type { FailureCodeName } from '../jobs/job-result.builder';
import { ForgeError, type ForgeFailure, type MergeRequestDraft } from './forge/forge-client';
import { InMemoryForge } from './in-memory-forge.mock';
import { MergeRequestNotPublishedError, publishMergeRequest } from './merge-request.publisher';

const DRAFT: MergeRequestDraft = {
  sourceBranch: 'airlock/0b6f6a4e-5d3c-4f0e-9a57-1c2d3e4f5a6b',
  targetBranch: 'main',
  title: 'Fix add',
  body: 'the first attempt',
  labels: ['airlock'],
  reviewers: ['alice'],
  draft: true,
};
const signal = new AbortController().signal;

async function refusal(publishing: Promise<unknown>): Promise<MergeRequestNotPublishedError> {
  const error = await publishing.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(MergeRequestNotPublishedError);
  return error as MergeRequestNotPublishedError;
}

describe('publishMergeRequest: open, or update the open request of the branch', () => {
  it("opens the branch's request, then updates that same request on the next delivery", async () => {
    const forge = new InMemoryForge();
    const opened = await publishMergeRequest(forge, DRAFT, signal);
    expect(opened).toEqual({ outcome: 'opened', mergeRequest: { number: 1, webUrl: expect.stringMatching(/\/1$/), state: 'open' } });
    const updated = await publishMergeRequest(forge, { ...DRAFT, body: 'the re-run' }, signal);
    expect(updated).toEqual({ outcome: 'updated', mergeRequest: opened.mergeRequest });
    expect(forge.requests.map((request) => request.draft.body)).toEqual(['the re-run']);
    expect(forge.calls).toEqual(['findOpen', 'open', 'findOpen', 'update']);
  });

  it('updates the request another delivery opened between the look-up and the open (the forge answered conflict)', async () => {
    const forge = new InMemoryForge().intercept('open', (held) => held.openDirectly({ ...DRAFT, body: 'the other delivery' }));
    const published = await publishMergeRequest(forge, DRAFT, signal);
    expect(published.outcome).toBe('updated');
    expect(forge.requests.map((request) => [request.number, request.draft.body])).toEqual([[1, 'the first attempt']]);
    expect(forge.calls).toEqual(['findOpen', 'open', 'findOpen', 'update']);
  });

  it('fails FORGE_REQUEST_REFUSED when the forge answers conflict yet lists no open request for the branch', async () => {
    const forge = new InMemoryForge().intercept('open', new ForgeError('conflict', '409 Conflict', 409));
    const error = await refusal(publishMergeRequest(forge, DRAFT, signal));
    expect(error.failureCode).toBe(FailureCode.FORGE_REQUEST_REFUSED);
    expect(forge.requests).toEqual([]);
  });

  it.each<[ForgeFailure, FailureCodeName]>([
    ['unavailable', FailureCode.FORGE_UNAVAILABLE],
    ['auth', FailureCode.FORGE_AUTH_FAILED],
    ['rate-limited', FailureCode.FORGE_RATE_LIMITED],
    ['not-found', FailureCode.FORGE_REQUEST_REFUSED],
    ['refused', FailureCode.FORGE_REQUEST_REFUSED],
  ])('maps ForgeError %s to %s', async (failure, code) => {
    const error = await refusal(publishMergeRequest(new InMemoryForge().intercept('open', new ForgeError(failure, 'the forge said no')), DRAFT, signal));
    expect(error.failureCode).toBe(code);
    expect(error.existing).toBeUndefined();
  });

  it('names the open request it could not update, so the local record can still link it', async () => {
    const forge = new InMemoryForge();
    const { mergeRequest } = await publishMergeRequest(forge, DRAFT, signal);
    forge.intercept('update', new ForgeError('rate-limited', '429 Too Many Requests', 429));
    const error = await refusal(publishMergeRequest(forge, DRAFT, signal));
    expect({ code: error.failureCode, existing: error.existing }).toEqual({ code: FailureCode.FORGE_RATE_LIMITED, existing: mergeRequest });
  });
});
