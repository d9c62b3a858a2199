import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { boundedFetch, ResponseTooLargeError } from './bounded-fetch';

describe('boundedFetch', () => {
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/small') {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ issuer: 'https://login.example.com' }));
      } else if (request.url === '/declared-large') {
        response.setHeader('content-length', '2048');
        response.end('x'.repeat(2048));
      } else if (request.url === '/streamed-large') {
        // No length said up front: chunks until well past the bound.
        response.write('y'.repeat(600));
        response.write('y'.repeat(600));
        response.end('y'.repeat(600));
      } else {
        response.statusCode = 204;
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  const request = { method: 'GET', headers: {}, redirect: 'manual' as const, body: undefined };
  const fetchAtMost1KiB = boundedFetch(1_024);

  it('passes a small answer through, status, headers and body', async () => {
    const response = await fetchAtMost1KiB(`${baseUrl}/small`, request);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    await expect(response.json()).resolves.toEqual({ issuer: 'https://login.example.com' });
    expect((await fetchAtMost1KiB(`${baseUrl}/empty`, request)).status).toBe(204);
  });

  it('refuses an answer past the bound, whether its length is declared or not', async () => {
    await expect(fetchAtMost1KiB(`${baseUrl}/declared-large`, request)).rejects.toBeInstanceOf(ResponseTooLargeError);
    await expect(fetchAtMost1KiB(`${baseUrl}/streamed-large`, request)).rejects.toThrow('exceeds 1024 bytes');
  });
});
