import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_TICKET, DEMO_TICKET_KEYS, DEMO_TRACKER_NAME, type DemoTracker, type DemoTrackerFlavour, demoTicketRef, startDemoTracker } from '@airlock/local-stack';
import { stringify } from 'yaml';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { parseTicketReference } from './ticket-reference';
import { createTicketTracker } from './tracker.factory';

/** The local stack's tracker, as the worker it configures sees it: its config entry loads, and the demo ticket reads back by its reference. */
describe.each<DemoTrackerFlavour>(['jira', 'gitlab'])("the local stack's %s tracker", (flavour) => {
  let root: string;
  let tracker: DemoTracker;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'airlock-demo-tracker-'));
    tracker = await startDemoTracker({ flavour, comment: true }, DEMO_TICKET, join(root, 'demo-billing.git'), root);
  });
  afterAll(async () => {
    await tracker.double.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('is a tracker entry the worker loads, whose token file is private, holding the demo ticket under its reference', async () => {
    const configFile = join(root, 'worker.yaml');
    writeFileSync(
      configFile,
      stringify({
        controlPlane: { address: '127.0.0.1:7443', insecure: true },
        stateDir: join(root, 'state'),
        workspaceDir: join(root, 'workspace'),
        inference: { endpoints: [{ name: 'local', baseUrl: 'http://127.0.0.1:8000/v1', model: 'm' }] },
        trackers: [tracker.workerConfig],
      }),
    );
    const [config] = loadWorkerConfig(configFile, { PATH: '/usr/bin:/bin' }).trackers;
    if (config === undefined) throw new Error('the worker config holds no tracker');
    expect(config).toMatchObject({ name: DEMO_TRACKER_NAME, type: flavour, comment: true });
    if (!('file' in config.token)) throw new Error('the demo tracker keeps its token in a file');
    expect(readFileSync(config.token.file, 'utf8').trim()).not.toBe('');
    expect(statSync(config.token.file).mode & 0o777).toBe(0o600);

    const reference = parseTicketReference(demoTicketRef(flavour));
    expect(reference).toEqual({ tracker: DEMO_TRACKER_NAME, key: DEMO_TICKET_KEYS[flavour] });
    const client = createTicketTracker(config, { maxRetries: 0, retryBudgetMs: 0 });
    try {
      await expect(client.read(reference.key, AbortSignal.timeout(10_000))).resolves.toEqual(DEMO_TICKET);
    } finally {
      await client.close();
    }
  });
});
