import { type ArgumentsHost, Logger, NotFoundException } from '@nestjs/common';
import { DomainErrorFilter } from './domain-error.filter';
import { InvalidRequestError } from './invalid-request.error';

/** A response double that records what the filter wrote. */
function respond(exception: unknown): { status: number; headers: Record<string, string>; body: unknown } {
  const written = { status: 0, headers: {} as Record<string, string>, body: undefined as unknown };
  const response = {
    status(code: number) {
      written.status = code;
      return { json: (body: unknown) => (written.body = body) };
    },
    setHeader(name: string, value: string) {
      written.headers[name] = value;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  new DomainErrorFilter().catch(exception, host);
  return written;
}

describe('DomainErrorFilter', () => {
  // The filter logs each 500 and outage; the assertions are on what it answers.
  beforeAll(() => Logger.overrideLogger(false));

  it('answers a domain error with its status and {statusCode, code, message}', () => {
    expect(respond(new InvalidRequestError(['ticket: expected an object', 'kind: expected one of fix, noop']))).toEqual({
      status: 400,
      headers: {},
      body: { statusCode: 400, code: 'INVALID_REQUEST', message: 'ticket: expected an object; kind: expected one of fix, noop' },
    });
    expect(respond(new NotFoundException('Cannot GET /api/v1/nope'))).toMatchObject({ status: 404, body: { code: 'ROUTE_NOT_FOUND' } });
  });

  it('answers a database outage with 503 and Retry-After, without the database address', () => {
    const outage = Object.assign(new Error("Can't reach database server at db.internal:5432"), { code: 'ECONNREFUSED' });
    const written = respond(outage);
    expect(written).toEqual({
      status: 503,
      headers: { 'Retry-After': '5' },
      body: { statusCode: 503, code: 'DATABASE_UNAVAILABLE', message: 'the database is unavailable; try again later' },
    });
  });

  it('answers anything else with a fixed 500 that echoes nothing', () => {
    const written = respond(new TypeError('postgresql://airlock:s3cret@db.internal:5432/airlock rejected "ticket text"'));
    expect(written).toEqual({ status: 500, headers: {}, body: { statusCode: 500, code: 'INTERNAL', message: 'internal error' } });
  });
});
