import { loadAppConfig } from './app-config';
import { InvalidConfigError } from './invalid-config.error';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadAppConfig(env);
  } catch (error) {
    if (error instanceof InvalidConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('loadAppConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadAppConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      http: { host: '127.0.0.1', port: 8080 },
      grpc: { host: '127.0.0.1', port: 50051 },
      leaseTtlMs: 30_000,
      heartbeatIntervalMs: 5_000,
      instructionTtlMs: 600_000,
      maxAttempts: 3,
      logLevel: 'log',
    });
    expect(config.dataDir.endsWith('.airlock/control-plane')).toBe(true);
  });

  it('parses durations and free ports', () => {
    const config = loadAppConfig({ AIRLOCK_LEASE_TTL: '2s', AIRLOCK_HEARTBEAT_INTERVAL: '250ms', AIRLOCK_HTTP_PORT: '0' });
    expect(config.leaseTtlMs).toBe(2_000);
    expect(config.heartbeatIntervalMs).toBe(250);
    expect(config.http.port).toBe(0);
  });

  it('names every bad variable and what it expects', () => {
    const problems = problemsOf({ AIRLOCK_LEASE_TTL: 'soon', AIRLOCK_HTTP_PORT: 'http', LOG_LEVEL: 'loud', AIRLOCK_MAX_ATTEMPTS: '0' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AIRLOCK_LEASE_TTL: expected a duration/),
        expect.stringMatching(/^AIRLOCK_HTTP_PORT: expected a TCP port/),
        expect.stringMatching(/^LOG_LEVEL: expected one of fatal, error/),
        expect.stringMatching(/^AIRLOCK_MAX_ATTEMPTS: expected an integer from 1 to 20/),
      ]),
    );
  });

  it('never echoes the database URL it rejects', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://admin:hunter2@db/x' });
    expect(problems).toEqual([expect.stringMatching(/^DATABASE_URL: expected a postgresql:\/\//)]);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('rejects a heartbeat interval that is not shorter than the lease', () => {
    expect(problemsOf({ AIRLOCK_LEASE_TTL: '1s', AIRLOCK_HEARTBEAT_INTERVAL: '1s' })).toEqual([
      expect.stringMatching(/^AIRLOCK_HEARTBEAT_INTERVAL: expected a duration shorter than AIRLOCK_LEASE_TTL/),
    ]);
  });
});
