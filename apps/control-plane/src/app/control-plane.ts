import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NatsConnection } from '@nats-io/nats-core';
import { openDataAccess, type DataAccess } from '@airlock/data-access';
import { AppModule } from './app.module';
import { FirstStartService } from './bootstrap/first-start.service';
import { systemClock, type Clock } from './common/clock';
import { apiBodyReader } from './common/json-body.reader';
import { requestValidationPipe } from './common/request-validation';
import type { AppConfig } from './config/app-config';
import { dashboardHandler } from './dashboard/dashboard.handler';
import { JOB_DISPATCHER, type JobDispatcher } from './dispatch/job-dispatcher';
import { LeaseReaperService, systemScheduler, type Scheduler } from './dispatch/lease-reaper.service';
import { WorkerSessionRegistry } from './dispatch/worker-session.registry';
import { WorkerGatewayService } from './gateway/worker-gateway.service';
import { WorkerGatewayStrategy } from './gateway/worker-gateway.strategy';
import { ControlPlaneMetrics } from './metrics/control-plane.metrics';
import { MetricsServer } from './metrics/metrics.server';
import { connectToNats, newReplicaId } from './nats/nats-connection';
import { openSecretSealer } from './secrets/secret-sealer.provider';
import { SigningKeyService } from './signing/signing-key.service';

const LOG_LEVEL_ORDER = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;

/** A running control plane. */
export interface RunningControlPlane {
  readonly httpUrl: string;
  readonly grpcAddress: string;
  /** Where Prometheus scrapes this process: `http://<AIRLOCK_METRICS_HOST>:<port>/metrics`. */
  readonly metricsUrl: string;
  /** Whether the worker gateway serves TLS (AIRLOCK_GRPC_TLS_CERT_FILE / _KEY_FILE). */
  readonly grpcTls: boolean;
  /** The bootstrap admin token on the very first start, otherwise null. */
  readonly bootstrapToken: string | null;
  readonly dataAccess: DataAccess;
  readonly app: INestApplication;
  stop(): Promise<void>;
}

/** Seams for tests: time and timers. */
export interface ControlPlaneOverrides {
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
}

/** Routes and validation of the REST API; what its OpenAPI document describes depends on them. */
export function configureRestApi(app: INestApplication): void {
  app.setGlobalPrefix('api/v1');
  app.useGlobalPipes(requestValidationPipe());
}

/**
 * The OpenAPI document of the REST API, keys sorted so the document is the same however
 * routes were registered. The one builder for both the served /api/docs-json and
 * `npm run api:generate` (scripts/openapi.ts), so the two cannot differ.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const openApi = new DocumentBuilder()
    .setTitle('Airlock control plane')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API token (alt_…)' })
    .build();
  return sortKeysDeep(SwaggerModule.createDocument(app, openApi));
}

function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeysDeep) as T;
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, child]) => [key, sortKeysDeep(child)])) as T;
}

/**
 * Opens the database (embedded when no URL) and applies migrations, establishes first-start
 * state and signing keys, then serves REST and the worker gateway.
 */
export async function startControlPlane(config: AppConfig, overrides: ControlPlaneOverrides = {}): Promise<RunningControlPlane> {
  const logger = new ConsoleLogger({ json: true, logLevels: [...LOG_LEVEL_ORDER.slice(0, LOG_LEVEL_ORDER.indexOf(config.logLevel) + 1)] });
  const { sealer, createdKekFile } = openSecretSealer(config.secretsAtRest);
  if (createdKekFile && config.secretsAtRest.kind === 'generated-kek') {
    // The path and the id only. Beside the embedded database it keeps secrets out of a dump of it, not out of a copy of the data directory.
    logger.warn({ event: 'kek_generated', file: config.secretsAtRest.file, kekId: sealer?.activeKekId, note: 'a KEK beside the database protects nothing against a copy of the data directory; set AIRLOCK_KEK_FILE to a key kept elsewhere (docs/security.md#secrets-at-rest)' }, 'SecretsAtRest');
  }
  const dataAccess = await openDataAccess(
    config.databaseUrl ? { kind: 'url', url: config.databaseUrl } : { kind: 'embedded', dataDir: config.dataDir },
  );
  const replicaId = newReplicaId();
  let app: INestApplication | undefined;
  let nats: NatsConnection | null = null;
  let metricsServer: MetricsServer | undefined;
  try {
    nats = config.natsServers.length > 0 ? await connectToNats(config.natsServers, replicaId, logger) : null;
    app = await NestFactory.create(
      AppModule.register({ config, dataAccess, clock: overrides.clock ?? systemClock, scheduler: overrides.scheduler ?? systemScheduler, replicaId, nats, sealer }),
      // forceCloseConnections: idle keep-alive HTTP connections must not hold up shutdown.
      // bodyParser: false, because apiBodyReader reads every body (JSON only, bounded).
      { logger, abortOnError: false, forceCloseConnections: true, bodyParser: false },
    );
    app.use(dashboardHandler(config.dashboardDir, logger));
    app.use(apiBodyReader());
    configureRestApi(app);
    const documented = app;
    SwaggerModule.setup('api/docs', app, () => buildOpenApiDocument(documented), { jsonDocumentUrl: 'api/docs-json' });

    const { bootstrapToken } = await app.get(FirstStartService).ensureDefaults();
    await app.get(SigningKeyService).load();
    // Alone, no worker stream is open now, whatever the last run left. With other replicas,
    // theirs are: the lease reaper marks offline only the workers no replica hears from.
    if (!nats) await dataAccess.workers.markAllOffline();
    const dispatcher = app.get<JobDispatcher>(JOB_DISPATCHER);
    await dispatcher.start();

    const gateway = new WorkerGatewayStrategy(app.get(WorkerGatewayService), config.grpc.host, config.grpc.port, config.grpc.tls, config.grpc.keepalive);
    app.connectMicroservice({ strategy: gateway }, { inheritAppConfig: true });
    await app.startAllMicroservices();
    await app.listen(config.http.port, config.http.host);
    metricsServer = new MetricsServer(app.get(ControlPlaneMetrics));
    const metricsUrl = await metricsServer.listen(config.metrics.host, config.metrics.port);
    logger.log({ event: 'metrics_listening', url: metricsUrl }, 'Metrics');
    const metrics = metricsServer;
    const reaper = app.get(LeaseReaperService);
    reaper.start();

    const running = app;
    const httpAddress = running.getHttpServer().address() as { port: number };
    return {
      httpUrl: `http://${config.http.host}:${httpAddress.port}`,
      grpcAddress: gateway.address(),
      metricsUrl,
      grpcTls: config.grpc.tls !== undefined,
      bootstrapToken,
      dataAccess,
      app: running,
      async stop() {
        const sessions = running.get(WorkerSessionRegistry);
        await metrics.close();
        await reaper.stop();
        await dispatcher.stop();
        await running.close();
        // Closing the gateway ended every stream; their workers' offline marks are still being written.
        await sessions.writesSettled();
        await nats?.drain();
        await dataAccess.close();
      },
    };
  } catch (error) {
    await metricsServer?.close();
    await app?.close().catch(() => undefined);
    await nats?.close().catch(() => undefined);
    await dataAccess.close();
    throw error;
  }
}
