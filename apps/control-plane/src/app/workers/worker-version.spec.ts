import { compareWorkerVersions, isWorkerVersionSupported } from './worker-version';

describe('compareWorkerVersions', () => {
  it('orders versions as Semantic Versioning does, a pre-release below its release', () => {
    const ascending = ['0.0.9', '0.1.0-alpha', '0.1.0-alpha.1', '0.1.0-alpha.beta', '0.1.0-beta.2', '0.1.0-beta.11', '0.1.0-rc.1', '0.1.0', '0.1.1', '0.10.0', '1.0.0'];
    const shuffled = [...ascending].reverse();
    expect(shuffled.sort(compareWorkerVersions)).toEqual(ascending);
    expect(compareWorkerVersions('1.2.3', '1.2.3')).toBe(0);
  });

  it('puts a version that is not a semantic version below every other', () => {
    expect(compareWorkerVersions('garbage', '0.0.0')).toBe(-1);
    expect(compareWorkerVersions('0.0.0', 'garbage')).toBe(1);
  });
});

describe('isWorkerVersionSupported', () => {
  it('holds from the minimum on, and not for a pre-release of it', () => {
    expect(isWorkerVersionSupported('0.1.0', '0.1.0')).toBe(true);
    expect(isWorkerVersionSupported('0.2.0', '0.1.0')).toBe(true);
    expect(isWorkerVersionSupported('0.1.0-rc.1', '0.1.0')).toBe(false);
    expect(isWorkerVersionSupported('0.0.9', '0.1.0')).toBe(false);
  });
});
