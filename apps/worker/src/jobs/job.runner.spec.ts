import { instructionHeader } from '@airlock/testing';
import { validateWorkerFrame, type InstructionPayload__Output } from '@airlock/protocol';
import { governedJobPolicy } from './governance/governed-job-policy.mock';
import { JobRunner } from './job.runner';

const noop = (): InstructionPayload__Output => ({ ...instructionHeader(), task: 'noop', noop: {} });
const pipeline = { run: () => Promise.reject(new Error('a noop never reaches the fix pipeline')) };
const run = (payload: InstructionPayload__Output, policy = governedJobPolicy()) =>
  new JobRunner([], pipeline).run(payload, policy, new AbortController().signal, () => undefined, () => Promise.resolve());

describe('JobRunner, for results the fix pipeline does not build', () => {
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
});
