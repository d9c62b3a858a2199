import { Metadata, status } from '@grpc/grpc-js';
import {
  GATEWAY_BUSY_REFUSAL,
  WORKER_REVOKED_REFUSAL,
  gatewayBusyRefusalMetadata,
  isWorkerRevokedRefusal,
  readGatewayBusyRetryAfterMs,
  readWorkerVersionRefusal,
  workerVersionRefusalMetadata,
} from './index';

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

describe('the busy refusal', () => {
  it('reads back the wait the control plane put in the trailers', () => {
    const metadata = gatewayBusyRefusalMetadata(1_250);
    expect(metadata.getMap()).toEqual({ 'airlock-refusal': 'gateway-busy', 'airlock-retry-after-ms': '1250' });
    expect(readGatewayBusyRetryAfterMs({ code: status.RESOURCE_EXHAUSTED, metadata })).toBe(1_250);
    expect(isWorkerRevokedRefusal({ code: status.RESOURCE_EXHAUSTED, metadata })).toBe(false);
    expect(readWorkerVersionRefusal({ code: status.RESOURCE_EXHAUSTED, metadata })).toBeNull();
  });

  it('is not read from another status, nor without its marker or a whole number of milliseconds', () => {
    expect(readGatewayBusyRetryAfterMs({ code: status.UNAVAILABLE, metadata: gatewayBusyRefusalMetadata(500) })).toBeNull();
    expect(readGatewayBusyRetryAfterMs({ code: status.RESOURCE_EXHAUSTED, metadata: new Metadata() })).toBeNull();
    expect(readGatewayBusyRetryAfterMs({ code: status.RESOURCE_EXHAUSTED })).toBeNull();
    for (const hint of ['', '-5', '1.5', 'soon', '1e3']) {
      const metadata = new Metadata();
      metadata.set('airlock-refusal', 'gateway-busy');
      metadata.set('airlock-retry-after-ms', hint);
      expect(readGatewayBusyRetryAfterMs({ code: status.RESOURCE_EXHAUSTED, metadata })).toBeNull();
    }
  });

  it('reads a wait past the maximum as the maximum, and refuses to write one', () => {
    const metadata = new Metadata();
    metadata.set('airlock-refusal', 'gateway-busy');
    metadata.set('airlock-retry-after-ms', '999999999');
    expect(readGatewayBusyRetryAfterMs({ code: status.RESOURCE_EXHAUSTED, metadata })).toBe(GATEWAY_BUSY_REFUSAL.maxRetryAfterMs);
    expect(() => gatewayBusyRefusalMetadata(GATEWAY_BUSY_REFUSAL.maxRetryAfterMs + 1)).toThrow(RangeError);
    expect(() => gatewayBusyRefusalMetadata(-1)).toThrow(RangeError);
    expect(() => gatewayBusyRefusalMetadata(2.5)).toThrow(RangeError);
  });
});
