import type { CustomFetch } from 'openid-client';

/** Statuses whose responses have no body by HTTP's rules; `new Response` refuses one for them. */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 204, 205, 304]);

/** An answer of the identity provider larger than the bound: refused rather than held in memory. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';

  constructor(maxBytes: number) {
    super(`the identity provider's answer exceeds ${maxBytes} bytes`);
  }
}

/**
 * A fetch for the identity provider's endpoints (discovery, keys, token, userinfo) that reads
 * at most `maxBytes` of each answer: openid-client reads whole bodies, and a misbehaving
 * provider must not make the control plane buffer without bound. Time is bounded by the
 * request's signal, which openid-client sets from its timeout.
 */
export function boundedFetch(maxBytes: number): CustomFetch {
  return async (url, request) => {
    const response = await fetch(url, request);
    if (NULL_BODY_STATUSES.has(response.status) || response.body === null) {
      return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
    }
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body.cancel();
      throw new ResponseTooLargeError(maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let received = 0;
    const reader = response.body.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      received += chunk.value.byteLength;
      if (received > maxBytes) {
        await reader.cancel();
        throw new ResponseTooLargeError(maxBytes);
      }
      chunks.push(chunk.value);
    }
    return new Response(Buffer.concat(chunks), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
