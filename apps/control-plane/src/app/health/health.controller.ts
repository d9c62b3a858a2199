import { Controller, Get, HttpStatus, Inject, Optional, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { NatsConnection } from '@nats-io/nats-core';
import { DataAccess } from '@airlock/data-access';
import { Public } from '../auth/principal';
import { NATS_CONNECTION } from '../nats/nats-connection';

/** How long each dependency may take to answer a readiness probe before it counts as down. */
export const READINESS_TIMEOUT_MS = 2_000;

const DEPENDENCY_STATES = ['up', 'down', 'not-configured'] as const;
type DependencyState = (typeof DEPENDENCY_STATES)[number];

export class ReadinessChecks {
  @ApiProperty({ enum: DEPENDENCY_STATES, description: 'PostgreSQL answered `SELECT 1` within 2 s (up) or not (down)' })
  database!: DependencyState;

  @ApiProperty({ enum: DEPENDENCY_STATES, description: 'NATS answered a round trip within 2 s (up) or not (down); not-configured without AIRLOCK_NATS_URL' })
  nats!: DependencyState;
}

export class ReadinessResponse {
  @ApiProperty({ enum: ['ready', 'not-ready'] })
  status!: 'ready' | 'not-ready';

  @ApiProperty({ type: ReadinessChecks })
  checks!: ReadinessChecks;
}

interface StatusResponse {
  status(code: number): unknown;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly data: DataAccess,
    // Present only with AIRLOCK_NATS_URL (replicas).
    @Optional() @Inject(NATS_CONNECTION) private readonly nats: NatsConnection | null = null,
  ) {}

  /** Liveness: the process serves HTTP. Needs no token. */
  @Public()
  @Get()
  check(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the dependencies a request needs answer. Needs no token. */
  @Public()
  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: PostgreSQL and NATS answer',
    description:
      'No token needed. 200 when PostgreSQL answers `SELECT 1` within 2 s and, with AIRLOCK_NATS_URL set, NATS answers a round trip within 2 s; ' +
      '503 otherwise, with `checks` saying which dependency is down. A load balancer or Kubernetes readiness probe sends traffic only to a ready replica; ' +
      'GET /api/v1/health stays the liveness probe.',
  })
  @ApiOkResponse({ type: ReadinessResponse, description: 'Every dependency answered' })
  @ApiServiceUnavailableResponse({ type: ReadinessResponse, description: 'A dependency did not answer in time; `checks` names it' })
  async ready(@Res({ passthrough: true }) response: StatusResponse): Promise<ReadinessResponse> {
    const [database, nats] = await Promise.all([answersWithin(() => this.data.ping()), this.nats ? answersWithin(() => this.natsRoundTrip(this.nats!)) : Promise.resolve<DependencyState>('not-configured')]);
    const ready = database === 'up' && nats !== 'down';
    response.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not-ready', checks: { database, nats } };
  }

  /** A PING answered by the server; a closed connection (drained at shutdown) never reconnects, so it is down at once. */
  private async natsRoundTrip(nats: NatsConnection): Promise<void> {
    if (nats.isClosed()) throw new Error('NATS connection closed');
    await nats.flush();
  }
}

/** `up` when the probe resolves within READINESS_TIMEOUT_MS, `down` when it rejects or takes longer. */
async function answersWithin(probe: () => Promise<void>): Promise<DependencyState> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<DependencyState>((resolve) => {
    timer = setTimeout(() => resolve('down'), READINESS_TIMEOUT_MS);
  });
  // A probe that answers after the timeout (a NATS flush completes on reconnect) is ignored.
  const answered = probe().then(
    (): DependencyState => 'up',
    (): DependencyState => 'down',
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
