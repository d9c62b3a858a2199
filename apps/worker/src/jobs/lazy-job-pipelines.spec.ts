import type { JobResult__Output } from '@airlock/protocol';
import type { JobPipelines } from './job.runner';
import { lazyJobPipelines } from './lazy-job-pipelines';

type FixRequest = Parameters<JobPipelines['fix']['run']>[0];
type IndexRequest = Parameters<JobPipelines['index']['run']>[0];

/** Pipelines that answer with the kind of pipeline and the request they were given. */
function answeringPipelines(answers: string[]): JobPipelines {
  const pipeline = (kind: string) => ({
    run: (request: unknown) => {
      answers.push(kind);
      return Promise.resolve({ request, kind } as unknown as JobResult__Output);
    },
  });
  return { fix: pipeline('fix'), review: pipeline('review'), index: pipeline('index') };
}

describe('lazyJobPipelines', () => {
  it('builds nothing until a job comes, then builds once and hands each job to its own pipeline', async () => {
    const answers: string[] = [];
    let loads = 0;
    const pipelines = lazyJobPipelines(async () => {
      loads += 1;
      return answeringPipelines(answers);
    });
    expect(loads).toBe(0);

    const fixRequest = { jobId: 'j1' } as unknown as FixRequest;
    const indexRequest = { jobId: 'j2' } as unknown as IndexRequest;
    const [fixResult, indexResult] = await Promise.all([pipelines.fix.run(fixRequest), pipelines.index.run(indexRequest)]);
    expect(fixResult).toEqual({ request: fixRequest, kind: 'fix' });
    expect(indexResult).toEqual({ request: indexRequest, kind: 'index' });
    expect(loads).toBe(1);
    expect(answers.sort()).toEqual(['fix', 'index']);
  });

  it('fails the job whose load failed and loads again for the next', async () => {
    let loads = 0;
    const pipelines = lazyJobPipelines(async () => {
      loads += 1;
      if (loads === 1) throw new Error('chunk unreadable');
      return answeringPipelines([]);
    });
    const request = {} as FixRequest;
    await expect(pipelines.fix.run(request)).rejects.toThrow('chunk unreadable');
    await expect(pipelines.fix.run(request)).resolves.toMatchObject({ kind: 'fix' });
    expect(loads).toBe(2);
  });
});
