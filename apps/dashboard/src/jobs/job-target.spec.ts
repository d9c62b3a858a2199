import { jobTargetOf } from './job-target';

const job = { kind: 'fix' as const, baseRef: null, mergeRequest: null, branch: null, ref: null };

describe('jobTargetOf', () => {
  it("says a fix's base ref, a review's merge request by number or branch, and an index job's ref", () => {
    expect(jobTargetOf({ ...job, baseRef: 'main' })).toEqual({ label: 'Base ref', value: 'main', cell: 'main' });
    expect(jobTargetOf({ ...job, kind: 'review', mergeRequest: 42 })).toEqual({ label: 'Merge request', value: '#42', cell: 'merge request #42' });
    expect(jobTargetOf({ ...job, kind: 'review', branch: 'feature/login' })).toEqual({ label: 'Branch reviewed', value: 'feature/login', cell: 'open request of feature/login' });
    expect(jobTargetOf({ ...job, kind: 'index', ref: 'release/2.0' })).toEqual({ label: 'Ref indexed', value: 'release/2.0', cell: 'release/2.0' });
  });

  it('has none for a noop job, nor for a job whose target is missing', () => {
    expect(jobTargetOf({ ...job, kind: 'noop' })).toBeNull();
    expect(jobTargetOf(job)).toBeNull();
    expect(jobTargetOf({ ...job, kind: 'review' })).toBeNull();
    // A fix's base ref is not an index job's ref.
    expect(jobTargetOf({ ...job, kind: 'index', baseRef: 'main' })).toBeNull();
  });
});
