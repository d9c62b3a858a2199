import { Prisma } from '@prisma/client';
import { isDatabaseUnavailableError } from './database-availability';

const clientVersion = '6.19.3';
const known = (code: string, meta?: Record<string, unknown>) => new Prisma.PrismaClientKnownRequestError('message', { code, clientVersion, ...(meta ? { meta } : {}) });
const adapterError = (cause: Record<string, unknown>) => Object.assign(new Error('adapter'), { name: 'DriverAdapterError', cause });

describe('isDatabaseUnavailableError', () => {
  it('recognises an unreachable, closed or overloaded database however Prisma reports it', () => {
    expect(isDatabaseUnavailableError(known('P1001'))).toBe(true);
    expect(isDatabaseUnavailableError(known('P2028'))).toBe(true);
    // A raw query wraps the adapter's error in P2010.
    expect(isDatabaseUnavailableError(known('P2010', { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'DatabaseNotReachable' } } }))).toBe(true);
    expect(isDatabaseUnavailableError(adapterError({ kind: 'ConnectionClosed' }))).toBe(true);
    expect(isDatabaseUnavailableError(adapterError({ kind: 'postgres', code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailableError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailableError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailableError(new Error('wrapped', { cause: known('P1017') }))).toBe(true);
  });

  it('leaves query and data problems alone, so they stay errors', () => {
    expect(isDatabaseUnavailableError(known('P2002'))).toBe(false);
    expect(isDatabaseUnavailableError(adapterError({ kind: 'postgres', code: '22021' }))).toBe(false);
    expect(isDatabaseUnavailableError(adapterError({ kind: 'UniqueConstraintViolation' }))).toBe(false);
    expect(isDatabaseUnavailableError(new RangeError('Maximum call stack size exceeded'))).toBe(false);
    expect(isDatabaseUnavailableError(null)).toBe(false);
    expect(isDatabaseUnavailableError('P1001')).toBe(false);
  });
});
