import { Metadata, status } from '@grpc/grpc-js';
import { WORKER_REVOKED_REFUSAL, isWorkerRevokedRefusal, readWorkerVersionRefusal, workerVersionRefusalMetadata } from './index';

describe('the version refusal', () => {
  const refusal = { versionStatus: 'too-old', supportedVersions: '>=0.2.0 <1.0.0', upgradeTo: '0.4.1' } as const;

  it('reads back what the control plane put in the trailers', () => {
    const metadata = workerVersionRefusalMetadata(refusal);
    expect(metadata.getMap()).toEqual({
      'airlock-refusal': 'worker-version',
      'airlock-version-status': 'too-old',
      'airlock-supported-versions': '>=0.2.0 <1.0.0',
      'airlock-upgrade-to': '0.4.1',
    });
    expect(readWorkerVersionRefusal({ code: status.FAILED_PRECONDITION, metadata })).toEqual(refusal);
    expect(isWorkerRevokedRefusal({ code: status.FAILED_PRECONDITION, metadata })).toBe(false);
  });

  it('is not read from another status, nor without its marker', () => {
    expect(readWorkerVersionRefusal({ code: status.PERMISSION_DENIED, metadata: workerVersionRefusalMetadata(refusal) })).toBeNull();
    expect(readWorkerVersionRefusal({ code: status.FAILED_PRECONDITION, metadata: new Metadata() })).toBeNull();
    expect(readWorkerVersionRefusal({ code: status.FAILED_PRECONDITION })).toBeNull();
    const revoked = new Metadata();
    revoked.set(WORKER_REVOKED_REFUSAL.metadataKey, WORKER_REVOKED_REFUSAL.metadataValue);
    expect(readWorkerVersionRefusal({ code: status.FAILED_PRECONDITION, metadata: revoked })).toBeNull();
  });

  it('drops values that are not of their shape, keeping the refusal', () => {
    const metadata = new Metadata();
    metadata.set('airlock-refusal', 'worker-version');
    metadata.set('airlock-version-status', 'ancient');
    metadata.set('airlock-supported-versions', 'any version at all');
    metadata.set('airlock-upgrade-to', 'latest');
    expect(readWorkerVersionRefusal({ code: status.FAILED_PRECONDITION, metadata })).toEqual({ versionStatus: null, supportedVersions: null, upgradeTo: null });
  });
});
