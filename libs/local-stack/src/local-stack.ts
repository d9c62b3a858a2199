import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ControlPlaneApiClient } from './control-plane-api.client';
import { createDemoRepository, DEMO_TICKET } from './demo-repository';
import { writeDemoScenarios } from './demo-scenarios';
import { startGitServer, type GitServer } from './git-server';
import type { ManagedProcess } from './managed-process';
import { startDemoForge, type DemoForgeOptions } from './forge/demo-forge';
import { startDemoTracker, type DemoTrackerOptions } from './forge/demo-tracker';
import type { ForgeDouble } from './forge/forge-double';
import { createThrowawayCertificates, createThrowawayClientCa } from './throwaway-ca.factory';
import { startTcpBalancer } from './tcp-balancer';
import { launchProgram, programCommand } from './workspace-programs';

/** The repository alias the demo repository has in the worker's catalog. */
export const DEMO_REPO_ALIAS = 'demo-billing';

export interface LocalStackOptions {
  /** An empty folder that will hold every file of the stack: repositories, state, logs. */
  readonly baseDir: string;
  /** Unique string planted in the demo repository and the model's answers. */
  readonly canary: string;
  /** A real PostgreSQL database for the control plane; embedded PostgreSQL when absent. */
  readonly databaseUrl?: string;
  readonly leaseTtl?: string;
  readonly heartbeatInterval?: string;
  readonly workerConcurrency?: number;
  readonly allowNoop?: boolean;
  /** Where the first worker keeps its state (identity, audit log, outbox); default under baseDir. A test may put it on a small tmpfs. */
  readonly workerStateDir?: string;
  /**
   * TLS on the worker gateway with a throwaway private CA (default true), as a real
   * deployment runs; false only for tests that need a plain-text loopback gateway.
   */
  readonly grpcTls?: boolean;
  /**
   * Mutual TLS on the gateway: a throwaway client CA (AIRLOCK_GRPC_CLIENT_CA_*) in this mode;
   * the worker gets its client certificate when it enrolls. Default: none.
   */
  readonly clientCertificates?: 'issue' | 'require';
  /** Extra environment for the control plane (e.g. LOG_LEVEL). */
  readonly controlPlaneEnv?: NodeJS.ProcessEnv;
  /** Called with a short line as each piece comes up. */
  readonly onProgress?: (line: string) => void;
  /**
   * Puts more bare repositories in the git server's folder before it starts (given that
   * folder) and returns their catalog aliases and folder names (`<name>.git`): the worker
   * gets each in its catalog beside the demo repository.
   */
  readonly prepareRepositories?: (gitDir: string) => Promise<ReadonlyArray<{ readonly alias: string; readonly name: string }>>;
  /** Writes more inference scenarios (given the scenarios folder) before the simulator starts. */
  readonly writeScenarios?: (scenariosDir: string) => void;
  /** The worker's `setup:` section: the package mirrors setup may reach and the variables it gets. */
  readonly workerSetup?: { readonly mirrors: readonly string[]; readonly env: Readonly<Record<string, string>> };
  /** The worker's `sandbox.env`: where toolchains find themselves inside the sandbox. */
  readonly sandboxEnv?: Readonly<Record<string, string>>;
  /** The worker's inference endpoints, given the simulator's URL (default: the simulator alone). */
  readonly inferenceEndpoints?: (simulatorUrl: string) => ReadonlyArray<Record<string, unknown>>;
  /** Overrides of the worker's `limits` (e.g. a small maxJobTokens). */
  readonly workerLimits?: Readonly<Record<string, unknown>>;
  /** The worker's `policy` section: its local rules and `maxFixRetries`. */
  readonly workerPolicy?: Readonly<Record<string, unknown>>;
  /** The worker's `labels`: the pools central policy can be published to. */
  readonly workerLabels?: readonly string[];
  /** More fields of the demo repository's catalog entry in the worker's config (e.g. branchPrefix, setup); they win over the stack's. */
  readonly demoCatalogEntry?: Readonly<Record<string, unknown>>;
  /** A forge double in front of the demo repository: the worker opens its merge requests there. */
  readonly forge?: DemoForgeOptions;
  /**
   * A tracker double holding DEMO_TICKET under DEMO_TICKET_KEYS[flavour], in every worker's
   * catalog as DEMO_TRACKER_NAME: jobs may name the ticket by `demoTicketRef(flavour)`.
   */
  readonly tracker?: DemoTrackerOptions;
  /** Extra environment for the first worker only (e.g. a PATH with a git of the test's). */
  readonly firstWorkerEnv?: NodeJS.ProcessEnv;
  /**
   * Starts the first worker (and its restarts) under a wrapper, given the stack's logs folder:
   * e.g. strace recording every socket it and its children open. Default: started directly.
   */
  readonly firstWorkerWrapper?: (logDir: string) => readonly string[];
  /** The workers' `delivery` section (e.g. a short `watch.interval`). */
  readonly workerDelivery?: Readonly<Record<string, unknown>>;
  /**
   * Several control-plane replicas sharing `databaseUrl` (required then) and a NATS server,
   * behind one gRPC and one HTTP address (a TCP balancer, as a load balancer would be in
   * production). Absent: one control plane, everything in process.
   */
  readonly replicas?: { readonly count: number; readonly natsUrl: string };
  /**
   * Seals the forge's and the tracker's worker tokens in place with `airlock-worker secrets seal`
   * under a worker KEK (`<worker dir>/worker.kek`, the config's `secrets.kekFile`), as
   * docs/worker.md#sealed-token-files tells customers to.
   */
  readonly sealWorkerTokens?: boolean;
  /**
   * Runs the control plane and the workers from the bundles in this folder (scripts/build-apps.ts
   * `--out`, `<dir>/<app>/main.js`) instead of their TypeScript sources.
   */
  readonly bundledAppsDir?: string;
}

/** One control-plane replica of a stack started with `replicas`. */
export interface ControlPlaneReplica {
  readonly index: number;
  /** The running process; replaced by `restart`. */
  readonly process: ManagedProcess;
  /** SIGKILL: as when its host fails. Its streams drop; the balancer sends new connections elsewhere. */
  kill(): Promise<void>;
  /** SIGTERM: the replica drains (ends its streams, finishes what it was recording) and exits. */
  drain(): Promise<void>;
  /** Starts it again (new ports behind the same balancer). */
  restart(): Promise<void>;
}

export interface WorkerHandle {
  readonly process: ManagedProcess;
  readonly configPath: string;
  readonly stateDir: string;
  readonly workspaceDir: string;
}

/** Everything the embedded default runs, each in a real process of its own. */
export interface LocalStack {
  readonly dirs: { readonly git: string; readonly logs: string; readonly scenarios: string; readonly worker: string };
  readonly gitServer: GitServer;
  readonly demoRepositoryPath: string;
  /** The forge double in front of the demo repository, when the options asked for one. */
  readonly forge: ForgeDouble | undefined;
  /** The tracker double holding the demo ticket, when the options asked for one. */
  readonly tracker: ForgeDouble | undefined;
  readonly inference: { readonly process: ManagedProcess; readonly url: string };
  readonly controlPlane: {
    /** The first replica's process (the only one unless `replicas` asked for more). */
    readonly process: ManagedProcess;
    /** Every replica; one unless `replicas` asked for more. */
    readonly replicas: readonly ControlPlaneReplica[];
    readonly httpUrl: string;
    readonly grpcAddress: string;
    /** The CA the worker pins for the gateway's certificate; undefined when plain text. */
    readonly grpcCaFile: string | undefined;
    /** The client CA's key, with `clientCertificates`: a secret tests may look for where it must not be. */
    readonly clientCaKeyFile: string | undefined;
  };
  readonly api: ControlPlaneApiClient;
  /** Where the control plane wrote its first-start admin API token. */
  readonly adminTokenFile: string;
  /** Every enrollment token the stack used, in order: secrets a test may look for where they must not be. */
  readonly enrollmentTokens: readonly string[];
  /**
   * The key-encryption keys' files: the control plane's (AIRLOCK_KEK_FILE with an external
   * database, outside its data directory; the one it generates in it when embedded) and the
   * worker's (with `sealWorkerTokens`).
   */
  readonly kekFiles: { readonly controlPlane: string; readonly worker: string | undefined };
  worker: WorkerHandle;
  /** Starts the worker process again with the same config and identity. */
  restartWorker(): Promise<WorkerHandle>;
  /**
   * Enrolls and starts one more worker (its own identity, state and workspace) named `label`;
   * `labels`, when given, are its pools instead of the stack's `workerLabels`.
   */
  addWorker(label: string, options?: { readonly labels?: readonly string[] }): Promise<WorkerHandle>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * Boots the embedded default: a git server with the demo repository, the local inference
 * server, the control plane and one enrolled worker. Stops whatever it started if any step
 * fails.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const say = options.onProgress ?? (() => undefined);
  const bundled = options.bundledAppsDir === undefined ? {} : { bundledAppsDir: options.bundledAppsDir };
  const dirs = {
    git: join(options.baseDir, 'customer-git'),
    logs: join(options.baseDir, 'logs'),
    scenarios: join(options.baseDir, 'scenarios'),
    worker: join(options.baseDir, 'worker'),
    controlPlane: join(options.baseDir, 'control-plane'),
    tls: join(options.baseDir, 'tls'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async (): Promise<void> => {
    for (const piece of started.reverse()) await piece.stop().catch(() => undefined);
  };

  try {
    const demoRepositoryPath = createDemoRepository(dirs.git, 'demo-billing', { canary: options.canary });
    const extraRepositories = (await options.prepareRepositories?.(dirs.git)) ?? [];
    const gitServer = await startGitServer(dirs.git, dirs.logs);
    started.push(gitServer);
    say(`git server      ${gitServer.urlOf('demo-billing.git')} (the customer's git server)`);
    const forge = options.forge && (await startDemoForge(options.forge, demoRepositoryPath, dirs.worker));
    if (forge) {
      started.push(forge.double);
      say(`forge           ${forge.double.apiUrl} (${options.forge?.flavour ?? ''} API double: merge requests)`);
    }
    const tracker = options.tracker && (await startDemoTracker(options.tracker, DEMO_TICKET, demoRepositoryPath, dirs.worker));
    if (tracker) {
      started.push(tracker.double);
      say(`tracker         ${tracker.double.apiUrl} (${options.tracker?.flavour ?? ''} API double: the demo ticket)`);
    }

    writeDemoScenarios(dirs.scenarios, { canary: options.canary });
    options.writeScenarios?.(dirs.scenarios);
    const inferenceProcess = launchProgram({ program: 'inference-sim', args: ['--port', '0', '--scenarios', dirs.scenarios], logDir: dirs.logs });
    started.push(inferenceProcess);
    const inferenceReady = await inferenceProcess.waitForEvent((e) => e.event === 'listening', READY_TIMEOUT_MS);
    const inferenceUrl = String(inferenceReady['url']);
    say(`inference       ${inferenceUrl} (inference-sim, OpenAI-compatible)`);

    const tokenFile = join(dirs.controlPlane, 'bootstrap-admin-token');
    // With an external database, a KEK of the operator's kept apart from the data; embedded, the one the control plane generates beside it.
    const controlPlaneKekFile = options.databaseUrl ? join(options.baseDir, 'control-plane.kek') : join(dirs.controlPlane, 'kek');
    if (options.databaseUrl && !existsSync(controlPlaneKekFile)) writeFileSync(controlPlaneKekFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const certificates = options.grpcTls === false ? undefined : await createThrowawayCertificates(dirs.tls);
    const clientCa = certificates && options.clientCertificates ? await createThrowawayClientCa(join(dirs.tls, 'client-ca')) : undefined;
    if (options.replicas && !options.databaseUrl) throw new Error('replicas share one PostgreSQL: give databaseUrl');
    const launchReplica = async (index: number): Promise<{ process: ManagedProcess; httpUrl: string; grpcAddress: string }> => {
      const replicaProcess = launchProgram({
        program: 'control-plane',
        ...bundled,
        logDir: dirs.logs,
        label: index === 0 ? 'control-plane' : `control-plane-${index}`,
        env: {
          ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : { DATABASE_URL: undefined }),
          ...(options.replicas ? { AIRLOCK_NATS_URL: options.replicas.natsUrl } : {}),
          AIRLOCK_DATA_DIR: dirs.controlPlane,
          AIRLOCK_HTTP_PORT: '0',
          AIRLOCK_GRPC_PORT: '0',
          AIRLOCK_METRICS_PORT: '0',
          AIRLOCK_BOOTSTRAP_TOKEN_FILE: tokenFile,
          ...(options.databaseUrl ? { AIRLOCK_KEK_FILE: controlPlaneKekFile } : {}),
          ...(certificates ? { AIRLOCK_GRPC_TLS_CERT_FILE: certificates.certFile, AIRLOCK_GRPC_TLS_KEY_FILE: certificates.keyFile } : {}),
          ...(clientCa ? { AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: clientCa.certFile, AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: clientCa.keyFile, AIRLOCK_GRPC_CLIENT_CERTS: options.clientCertificates } : {}),
          ...(options.leaseTtl ? { AIRLOCK_LEASE_TTL: options.leaseTtl } : {}),
          ...(options.heartbeatInterval ? { AIRLOCK_HEARTBEAT_INTERVAL: options.heartbeatInterval } : {}),
          ...options.controlPlaneEnv,
        },
      });
      started.push(replicaProcess);
      const ready = await replicaProcess.waitForEvent((e) => e.event === 'ready', READY_TIMEOUT_MS);
      if (ready['grpcTls'] !== (certificates !== undefined)) throw new Error(`the control plane reported grpcTls ${String(ready['grpcTls'])}, not ${certificates !== undefined}`);
      return { process: replicaProcess, httpUrl: String(ready['httpUrl']), grpcAddress: String(ready['grpcAddress']) };
    };
    // One after another: the first makes the first-start state (tenant, token, signing key) the others find.
    const running: ({ process: ManagedProcess; httpUrl: string; grpcAddress: string } | null)[] = [];
    for (let index = 0; index < (options.replicas?.count ?? 1); index += 1) running.push(await launchReplica(index));
    const first = running[0]!;
    let httpUrl = first.httpUrl;
    let grpcAddress = first.grpcAddress;
    if (options.replicas) {
      const backendOf = (address: string) => {
        const url = new URL(address.includes('://') ? address : `tcp://${address}`);
        return { host: url.hostname, port: Number(url.port) };
      };
      const grpcBalancer = await startTcpBalancer(() => running.map((replica) => replica && backendOf(replica.grpcAddress)));
      const httpBalancer = await startTcpBalancer(() => running.map((replica) => replica && backendOf(replica.httpUrl)));
      started.push(grpcBalancer, httpBalancer);
      grpcAddress = `${backendOf(first.grpcAddress).host}:${grpcBalancer.port}`;
      httpUrl = `http://127.0.0.1:${httpBalancer.port}`;
    }
    const replicas: ControlPlaneReplica[] = running.map((_, index) => ({
      index,
      get process() {
        return running[index]?.process ?? first.process;
      },
      async kill() {
        const replica = running[index];
        running[index] = null;
        if (!replica) return;
        replica.process.signal('SIGKILL');
        await replica.process.waitForExit();
      },
      async drain() {
        const replica = running[index];
        running[index] = null;
        await replica?.process.stop();
      },
      async restart() {
        await this.kill();
        running[index] = await launchReplica(index);
      },
    }));
    const controlPlaneProcess = first.process;
    const api = new ControlPlaneApiClient(httpUrl, readFileSync(tokenFile, 'utf8').trim());
    say(
      `control plane   ${httpUrl} (REST, OpenAPI at /api/docs), gRPC ${grpcAddress} (${certificates ? 'TLS, throwaway private CA' : 'plain text'})` +
        (options.replicas ? `, ${options.replicas.count} replicas behind one address, NATS ${options.replicas.natsUrl}` : ''),
    );

    const signingKeys = await api.signingKeys();
    const enrollmentTokens: string[] = [];
    const workerKekFile = options.sealWorkerTokens ? join(dirs.worker, 'worker.kek') : undefined;
    if (workerKekFile && !existsSync(workerKekFile)) writeFileSync(workerKekFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    /** Writes a worker's config and enrolls it; the worker's files live under `home` unless `stateDir` says otherwise. */
    const enrollWorker = async (label: string, home: string, stateDir = join(home, 'state'), labels = options.workerLabels): Promise<Omit<WorkerHandle, 'process'>> => {
      const workerDirs = { stateDir, workspaceDir: join(home, 'workspace') };
      const configPath = join(home, 'worker.yaml');
      mkdirSync(home, { recursive: true });
      writeFileSync(
        configPath,
        stringify({
          controlPlane: {
            address: grpcAddress,
            ...(certificates ? { tls: { caFile: certificates.caFile } } : { insecure: true }),
            trustedSigningKeys: signingKeys.map(({ keyId, publicKey }) => ({ keyId, publicKey })),
          },
          stateDir: workerDirs.stateDir,
          workspaceDir: workerDirs.workspaceDir,
          concurrency: options.workerConcurrency ?? 1,
          allowNoop: options.allowNoop ?? false,
          inference: { endpoints: options.inferenceEndpoints?.(inferenceUrl) ?? [{ name: 'local-sim', baseUrl: inferenceUrl, model: 'airlock-sim-coder' }] },
          repositories: [
            {
              alias: DEMO_REPO_ALIAS,
              cloneUrl: gitServer.urlOf('demo-billing.git'),
              pushUrl: gitServer.urlOf('demo-billing.git'),
              branchPrefix: 'airlock/',
              ...(forge ? { forge: forge.workerConfig } : {}),
              ...options.demoCatalogEntry,
            },
            ...extraRepositories.map(({ alias, name }) => ({ alias, cloneUrl: gitServer.urlOf(name), pushUrl: gitServer.urlOf(name), branchPrefix: 'airlock/' })),
          ],
          ...(options.workerSetup ? { setup: { mirrors: [...options.workerSetup.mirrors], env: { ...options.workerSetup.env } } } : {}),
          ...(options.sandboxEnv ? { sandbox: { env: { ...options.sandboxEnv } } } : {}),
          ...(options.workerLimits ? { limits: { ...options.workerLimits } } : {}),
          ...(options.workerPolicy ? { policy: { ...options.workerPolicy } } : {}),
          ...(labels ? { labels: [...labels] } : {}),
          ...(tracker ? { trackers: [tracker.workerConfig] } : {}),
          ...(options.workerDelivery ? { delivery: { ...options.workerDelivery } } : {}),
          ...(workerKekFile ? { secrets: { kekFile: workerKekFile } } : {}),
        }),
      );
      if (workerKekFile) sealTokenFiles(configPath, [forge?.workerConfig['tokenFile'], tracker?.workerConfig['tokenFile']], dirs.logs, options.bundledAppsDir);
      const { token } = await api.createEnrollmentToken();
      enrollmentTokens.push(token);
      // As docs/worker.md tells operators: from a file, never on the command line (ps shows it).
      const tokenFile = join(home, 'enrollment-token');
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      const enroll = launchProgram({ program: 'worker', ...bundled, args: ['enroll', '--config', configPath, '--token-file', tokenFile], logDir: dirs.logs, label: `${label}-enroll` });
      await enroll.waitForExit();
      rmSync(tokenFile, { force: true });
      if (enroll.exitCode !== 0) throw new Error(`worker enroll exited with ${enroll.exitCode}; see ${join(dirs.logs, `${label}-enroll.log`)}`);
      return { configPath, ...workerDirs };
    };
    const startWorker = async (label: string, enrolled: Omit<WorkerHandle, 'process'>, env?: NodeJS.ProcessEnv, wrapWith?: readonly string[]): Promise<WorkerHandle> => {
      const workerProcess = launchProgram({ program: 'worker', ...bundled, args: ['run', '--config', enrolled.configPath], logDir: dirs.logs, label, ...(env ? { env } : {}), ...(wrapWith ? { wrapWith } : {}) });
      started.push(workerProcess);
      await workerProcess.waitForEvent((e) => e.event === 'worker-ready', READY_TIMEOUT_MS);
      return { process: workerProcess, ...enrolled };
    };
    const firstWorker = await enrollWorker('worker', dirs.worker, options.workerStateDir);
    const firstWorkerWrapWith = options.firstWorkerWrapper?.(dirs.logs);
    const worker = await startWorker('worker', firstWorker, options.firstWorkerEnv, firstWorkerWrapWith);
    say(`worker          enrolled and connected (customer side, pinned signing key ${signingKeys[0]?.keyId ?? '?'})`);

    const stack: LocalStack = {
      dirs,
      gitServer,
      demoRepositoryPath,
      forge: forge?.double,
      tracker: tracker?.double,
      inference: { process: inferenceProcess, url: inferenceUrl },
      controlPlane: { process: controlPlaneProcess, replicas, httpUrl, grpcAddress, grpcCaFile: certificates?.caFile, clientCaKeyFile: clientCa?.keyFile },
      api,
      adminTokenFile: tokenFile,
      enrollmentTokens,
      kekFiles: { controlPlane: controlPlaneKekFile, worker: workerKekFile },
      worker,
      restartWorker: async () => {
        stack.worker = await startWorker('worker', firstWorker, options.firstWorkerEnv, firstWorkerWrapWith);
        return stack.worker;
      },
      addWorker: async (label, added) => startWorker(label, await enrollWorker(label, join(options.baseDir, label), undefined, added?.labels ?? options.workerLabels)),
      stop: stopAll,
    };
    return stack;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Seals each plain token file in place: `airlock-worker secrets seal` reads the token on stdin,
 * as an operator would pipe it, never from its command line. Its output goes to the logs folder
 * with every other process's.
 */
function sealTokenFiles(configPath: string, tokenFiles: readonly unknown[], logDir: string, bundledAppsDir: string | undefined): void {
  for (const file of tokenFiles) {
    if (typeof file !== 'string') continue;
    const token = readFileSync(file, 'utf8');
    if (token.startsWith('airlock-sealed:')) continue;
    const { command, args, env, cwd } = programCommand('worker', ['secrets', 'seal', '--config', configPath, '--out', file, '--force'], {}, bundledAppsDir);
    const sealing = spawnSync(command, args, { cwd, env, input: token, encoding: 'utf8', timeout: 60_000 });
    writeFileSync(join(logDir, 'worker-secrets-seal.log'), `${sealing.stdout ?? ''}${sealing.stderr ?? ''}`, { flag: 'a' });
    if (sealing.status !== 0) throw new Error(`airlock-worker secrets seal exited with ${sealing.status}; see ${join(logDir, 'worker-secrets-seal.log')}`);
  }
}
