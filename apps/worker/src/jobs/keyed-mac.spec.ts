import { createHmac } from 'node:crypto';
import { keyedMac } from './job-result.builder';

describe('keyedMac', () => {
  const key = Buffer.from(Array.from({ length: 32 }, (_, index) => index));
  const data = 'refs/heads/airlock/x';

  it('derives one key per purpose with HKDF-SHA256, as an independent implementation computes it', () => {
    // Computed with Python's hmac and hashlib (HKDF per RFC 5869, empty salt, info "airlock/v1/<purpose>-mac").
    expect(keyedMac(key, 'change', data).toString('hex')).toBe('6e125b65f9b50f19b0bac66e296bee687b9436bad6d04f35cd01700fbad9443f');
    expect(keyedMac(key, 'delivery', data).toString('hex')).toBe('31d8684ecf5528bd1cd6902e3f5bdf4e8558e545f001023e23b2c216a6599a45');
    expect(keyedMac(key, 'ticket-ref', data).toString('hex')).toBe('10687ce45c0728f9b1a92baaf1fe69e281d69711411ef08b79891c82d05e74b2');
  });

  it('never gives a MAC of one kind that equals another kind, or a plain HMAC under the local key, for the same bytes', () => {
    const macs = [keyedMac(key, 'change', data), keyedMac(key, 'delivery', data), keyedMac(key, 'ticket-ref', data), createHmac('sha256', key).update(data).digest()];
    expect(new Set(macs.map((mac) => mac.toString('hex'))).size).toBe(4);
  });
});
