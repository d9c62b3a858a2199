import { compareWorkerVersions, describeSupportedVersions, isAcceptedVersionStatus, judgeWorkerVersion, type WorkerVersionWindow } from './worker-version';

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

describe('judgeWorkerVersion', () => {
  const endOfSupport = new Date('2026-07-01T00:00:00Z');
  const before = new Date('2026-06-30T23:59:59.999Z');
  const window: WorkerVersionWindow = { minimum: '0.2.0', maximum: '1.0.0', recommended: '0.5.0', deprecation: null };
  const deprecating: WorkerVersionWindow = { ...window, deprecation: { below: '0.4.0', endOfSupport } };
  const judge = (version: string, at = before, within = window) => judgeWorkerVersion(version, within, at).status;

  it('supports a version from the minimum on and below the maximum', () => {
    for (const version of ['0.2.0', '0.2.1', '0.9.99', '0.9.9-beta.1']) expect(judge(version)).toBe('SUPPORTED');
  });

  it('finds a version below the minimum too old: a pre-release of the minimum among them, and anything that is no version', () => {
    for (const version of ['0.1.9', '0.0.1', '0.2.0-rc.1', 'garbage', '']) expect(judge(version)).toBe('TOO_OLD');
  });

  it('takes a pre-release minimum as it is: later pre-releases of that release are in, earlier ones are not', () => {
    const fromCandidate = { ...window, minimum: '0.3.0-rc.2' };
    expect(judge('0.3.0-rc.2', before, fromCandidate)).toBe('SUPPORTED');
    expect(judge('0.3.0-rc.10', before, fromCandidate)).toBe('SUPPORTED');
    expect(judge('0.3.0', before, fromCandidate)).toBe('SUPPORTED');
    expect(judge('0.3.0-rc.1', before, fromCandidate)).toBe('TOO_OLD');
    expect(judge('0.3.0-beta', before, fromCandidate)).toBe('TOO_OLD');
  });

  it('finds the maximum, anything above it and any pre-release of it too new: the maximum is excluded', () => {
    for (const version of ['1.0.0', '1.0.0-rc.1', '1.0.0-alpha', '1.0.1', '2.0.0', '10.0.0']) expect(judge(version)).toBe('TOO_NEW');
  });

  it('deprecates a version below the deprecation bound until the end of support, naming it', () => {
    expect(judgeWorkerVersion('0.3.9', deprecating, before)).toEqual({ status: 'DEPRECATED', endOfSupport });
    expect(judge('0.2.0', before, deprecating)).toBe('DEPRECATED');
    expect(judge('0.4.0-rc.1', before, deprecating)).toBe('DEPRECATED');
    expect(judge('0.4.0', before, deprecating)).toBe('SUPPORTED');
    expect(judge('0.1.0', before, deprecating)).toBe('TOO_OLD');
    expect(judge('1.0.0', before, deprecating)).toBe('TOO_NEW');
  });

  it('refuses a deprecated version from the very instant its support ends', () => {
    expect(judge('0.3.9', endOfSupport, deprecating)).toBe('TOO_OLD');
    expect(judge('0.3.9', new Date('2027-01-01T00:00:00Z'), deprecating)).toBe('TOO_OLD');
    expect(judge('0.4.0', endOfSupport, deprecating)).toBe('SUPPORTED');
  });

  it('accepts at the Hello what is supported or deprecated, nothing else', () => {
    expect(['SUPPORTED', 'DEPRECATED', 'TOO_OLD', 'TOO_NEW'].filter((status) => isAcceptedVersionStatus(status as never))).toEqual(['SUPPORTED', 'DEPRECATED']);
  });
});

describe('describeSupportedVersions', () => {
  const endOfSupport = new Date('2026-07-01T00:00:00Z');
  const window: WorkerVersionWindow = { minimum: '0.2.0', maximum: '1.0.0', recommended: '0.5.0', deprecation: { below: '0.4.0', endOfSupport } };

  it('states the window as a range, its oldest version raised to the deprecation bound once support ended', () => {
    expect(describeSupportedVersions({ ...window, deprecation: null }, endOfSupport)).toBe('>=0.2.0 <1.0.0');
    expect(describeSupportedVersions(window, new Date(endOfSupport.getTime() - 1))).toBe('>=0.2.0 <1.0.0');
    expect(describeSupportedVersions(window, endOfSupport)).toBe('>=0.4.0 <1.0.0');
  });
});
