import { instructionHeader } from '@airlock/testing';
import { validateWorkerFrame, type InstructionPayload__Output } from '@airlock/protocol';
import { governedJobPolicy } from './governance/governed-job-policy.mock';
import { JobRunner } from './job.runner';

const noop = (): InstructionPayload__Output => ({ ...instructionHeader(), task: 'noop', noop: {} });
const unreachable = { run: () => Promise.reject(new Error('a noop never reaches a pipeline')) };
const run = (payload: InstructionPayload__Output, policy = governedJobPolicy()) =>
  new JobRunner([], { fix: unreachable, review: unreachable, index: unreachable }).run(payload, policy, new AbortController().signal, () => undefined, () => Promise.resolve());

describe('JobRunner', () => {
  it('names the policy revision a noop ran under and reports it at the policy metadata level', async () => {
    const policy = governedJobPolicy({ centralRules: { 'metadata-level': { report: 'minimal', buckets: false } }, revision: 7 });
    const result = await run(noop(), policy);
    expect(result).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED', metadataLevel: 'METADATA_LEVEL_MINIMAL', policy: { revision: 7, shadowRevision: 0, decisions: [] } });
    expect(result.tokens).toBeNull();
    expect(() => validateWorkerFrame({ frame: 'result', result })).not.toThrow();
  });

  it('reports a fix on an alias missing from the catalog as INTERNAL at the policy metadata level too', async () => {
    const fix: InstructionPayload__Output = { ...instructionHeader(), task: 'fix', fix: { repoAlias: 'gone', baseRef: 'main', ticketRef: '', deliveryJobId: '', deliveryGeneration: 0, ticket: { title: 'Fix it', description: '' } } };
    const result = await run(fix, governedJobPolicy({ centralRules: { 'metadata-level': { report: 'standard', buckets: true } } }));
    expect(result).toMatchObject({ outcome: 'JOB_OUTCOME_FAILED', failureCode: 'INTERNAL', metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED', policy: { revision: 1 } });
    expect(() => validateWorkerFrame({ frame: 'result', result })).not.toThrow();
  });

  it('stays at the standard level with local policy alone', async () => {
    expect(await run(noop())).toMatchObject({ metadataLevel: 'METADATA_LEVEL_STANDARD', policy: { revision: 0 } });
  });

  it('hands a review and an index task to their own pipelines, with the repository the task names', async () => {
    const calls: string[] = [];
    const pipeline = (kind: string) => ({
      run: (request: { readonly repo: { readonly alias: string }; readonly task: unknown }) => {
        calls.push(`${kind} ${request.repo.alias} ${JSON.stringify(request.task)}`);
        return Promise.reject(new Error('stop here'));
      },
    });
    const repositories = [{ alias: 'web', cloneUrl: '/r/w.git', branchPrefix: 'airlock/', baseRefs: ['main'] }];
    const runner = new JobRunner(repositories, { fix: pipeline('fix'), review: pipeline('review'), index: pipeline('index') });
    const runTask = (payload: InstructionPayload__Output) => runner.run(payload, governedJobPolicy(), new AbortController().signal, () => undefined, () => Promise.resolve()).catch(() => undefined);
    await runTask({ ...instructionHeader(), task: 'review', review: { repoAlias: 'web', target: 'mergeRequest', mergeRequest: 3 } });
    await runTask({ ...instructionHeader(), task: 'index', index: { repoAlias: 'web', ref: 'main' } });
    expect(calls).toEqual(['review web {"repoAlias":"web","target":"mergeRequest","mergeRequest":3}', 'index web {"repoAlias":"web","ref":"main"}']);
    const unknown = await runner.run({ ...instructionHeader(), task: 'review', review: { repoAlias: 'gone', target: 'branch', branch: 'x' } }, governedJobPolicy(), new AbortController().signal, () => undefined, () => Promise.resolve());
    expect(unknown).toMatchObject({ outcome: 'JOB_OUTCOME_FAILED', failureCode: 'INTERNAL' });
  });
});
