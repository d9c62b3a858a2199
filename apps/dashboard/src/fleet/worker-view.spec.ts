import { shortDigest, workerActions, workerLabel, workerPools, workerState } from './worker-view';

describe('workerState', () => {
  it('puts revocation before drain, and drain before the connection', () => {
    expect(workerState({ revoked: true, draining: true, status: 'ONLINE' })).toBe('revoked');
    expect(workerState({ revoked: false, draining: true, status: 'OFFLINE' })).toBe('draining');
    expect(workerState({ revoked: false, draining: false, status: 'ONLINE' })).toBe('online');
    expect(workerState({ revoked: false, draining: false, status: 'OFFLINE' })).toBe('offline');
  });
});

describe('workerActions', () => {
  it('offers drain or undrain by the drain state, and nothing on a revoked worker', () => {
    expect(workerActions({ revoked: false, draining: false })).toEqual({ drain: true, undrain: false, revoke: true });
    expect(workerActions({ revoked: false, draining: true })).toEqual({ drain: false, undrain: true, revoke: true });
    expect(workerActions({ revoked: true, draining: true })).toEqual({ drain: false, undrain: false, revoke: false });
  });
});

describe('workerPools', () => {
  it('lists the enrolled pool first and each pool once', () => {
    expect(workerPools({ pool: 'gpu', labels: ['payments', 'gpu'] })).toEqual([
      { name: 'gpu', enrolled: true },
      { name: 'payments', enrolled: false },
    ]);
    expect(workerPools({ pool: null, labels: [] })).toEqual([]);
  });
});

describe('workerLabel and shortDigest', () => {
  it('names a worker by its name, else the start of its id', () => {
    expect(workerLabel({ id: '0b7c2d1e-aaaa-4bbb-8ccc-123456789abc', name: 'build-01' })).toBe('build-01');
    expect(workerLabel({ id: '0b7c2d1e-aaaa-4bbb-8ccc-123456789abc', name: null })).toBe('0b7c2d1e');
  });

  it('shortens a SHA-256 to 12 hex digits and marks the cut', () => {
    expect(shortDigest('a'.repeat(64))).toBe(`${'a'.repeat(12)}…`);
    expect(shortDigest('abc')).toBe('abc');
  });
});
