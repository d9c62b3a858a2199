import { status } from '@grpc/grpc-js';
import type { WorkerVersionWindow } from '../workers/worker-version';
import { judgeHelloVersion } from './worker-version.gate';

describe('judgeHelloVersion', () => {
  const endOfSupport = new Date('2026-07-01T00:00:00.250Z');
  const window: WorkerVersionWindow = { minimum: '0.2.0', maximum: '1.0.0', recommended: '0.5.0', deprecation: { below: '0.4.0', endOfSupport } };
  const now = new Date('2026-06-01T00:00:00Z');

  it('lets a supported version in without a word', () => {
    expect(judgeHelloVersion('0.4.0', window, now)).toEqual({ judgement: { status: 'SUPPORTED' }, refusal: null, notice: null });
  });

  it('lets a deprecated version in with a notice, its end of support rounded up to the second it is refused from', () => {
    expect(judgeHelloVersion('0.3.0', window, now)).toEqual({
      judgement: { status: 'DEPRECATED', endOfSupport },
      refusal: null,
      notice: { status: 'VERSION_STATUS_DEPRECATED', recommendedVersion: '0.5.0', endOfSupportAtS: Math.floor(endOfSupport.getTime() / 1000) + 1 },
    });
  });

  it('refuses a version outside the window with FAILED_PRECONDITION, the refusal in words, its trailers and what to log', () => {
    const { refusal, notice } = judgeHelloVersion('0.1.0', window, now);
    expect(notice).toBeNull();
    expect(refusal).toMatchObject({
      status: status.FAILED_PRECONDITION,
      details: 'worker version 0.1.0 is older than this control plane supports (>=0.2.0 <1.0.0): upgrade the worker to 0.5.0',
      logFields: { version: '0.1.0', versionStatus: 'TOO_OLD', supportedVersions: '>=0.2.0 <1.0.0', upgradeTo: '0.5.0' },
    });
    expect(refusal?.trailers.getMap()).toEqual({
      'airlock-refusal': 'worker-version',
      'airlock-version-status': 'too-old',
      'airlock-supported-versions': '>=0.2.0 <1.0.0',
      'airlock-upgrade-to': '0.5.0',
    });
    expect(judgeHelloVersion('2.0.0', window, now).refusal?.details).toBe('worker version 2.0.0 is newer than this control plane supports (>=0.2.0 <1.0.0): install worker 0.5.0, or upgrade the control plane');
  });

  it('states the raised window to a deprecated version refused once its support ended', () => {
    expect(judgeHelloVersion('0.3.0', window, endOfSupport).refusal?.logFields).toMatchObject({ versionStatus: 'TOO_OLD', supportedVersions: '>=0.4.0 <1.0.0' });
  });
});
