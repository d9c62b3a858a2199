import { ABORT_REASON, abortFailureCode } from './fix-job.pipeline';

describe('abortFailureCode', () => {
  it('tells a local job timeout from a cancel and a shutdown', async () => {
    const timedOut = AbortSignal.timeout(1);
    await new Promise((resolve) => timedOut.addEventListener('abort', resolve));
    expect(abortFailureCode(timedOut.reason)).toBe('JOB_TIMED_OUT');
    expect(abortFailureCode(ABORT_REASON.cancelled)).toBe('CANCELLED');
    expect(abortFailureCode(ABORT_REASON.shutdown)).toBe('WORKER_SHUTDOWN');
  });
});
