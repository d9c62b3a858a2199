import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapturedLog } from '../../daemon/captured-log.mock';
import { DeliveryWatchStore } from './delivery-watch.store';

describe('DeliveryWatchStore', () => {
  let dir: string;
  let log: CapturedLog;
  let store: DeliveryWatchStore;

  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'airlock-delivery-watch-store-')), 'delivery-watch');
    log = new CapturedLog();
    store = new DeliveryWatchStore(dir, log.logger);
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('keeps one watch per chain in a file of its own, private to the worker', () => {
    const deliveryJobId = randomUUID();
    expect(store.register({ deliveryJobId, repoAlias: 'payments', number: 4, registeredAt: 1_000 })).toBe(true);
    expect(store.get(deliveryJobId)).toEqual({ deliveryJobId, repoAlias: 'payments', number: 4, registeredAt: 1_000, latest: null, sent: null, sentAt: null, resend: false, final: false });
    expect(readdirSync(dir)).toEqual([`${deliveryJobId}.json`]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, `${deliveryJobId}.json`)).mode & 0o777).toBe(0o600);
  });

  it("keeps the watch of a request a re-run updated, and replaces the one of a chain's earlier request", () => {
    const deliveryJobId = randomUUID();
    store.register({ deliveryJobId, repoAlias: 'payments', number: 4, registeredAt: 1_000 });
    store.update(deliveryJobId, (watch) => ({ ...watch, final: true }));
    expect(store.register({ deliveryJobId, repoAlias: 'payments', number: 4, registeredAt: 2_000 })).toBe(false);
    expect(store.get(deliveryJobId)).toMatchObject({ registeredAt: 1_000, final: true });
    expect(store.register({ deliveryJobId, repoAlias: 'payments', number: 5, registeredAt: 3_000 })).toBe(true);
    expect(store.get(deliveryJobId)).toMatchObject({ number: 5, registeredAt: 3_000, final: false });
  });

  it('lists the readable watches, logging an unreadable one and leaving files that are no watch alone', () => {
    const [good, broken] = [randomUUID(), randomUUID()];
    store.register({ deliveryJobId: good, repoAlias: 'payments', number: 1, registeredAt: 1_000 });
    writeFileSync(join(dir, `${broken}.json`), '{"deliveryJobId": "someone else"}');
    writeFileSync(join(dir, 'notes.json'), '{}');
    expect(store.all().map((watch) => watch.deliveryJobId)).toEqual([good]);
    expect(log.events('delivery-watch-unreadable')).toEqual([expect.objectContaining({ deliveryJobId: broken })]);
  });

  it('refuses a delivery job id that is not a UUID, so that no file name climbs out of its folder', () => {
    expect(() => store.register({ deliveryJobId: '../../etc/passwd', repoAlias: 'payments', number: 1, registeredAt: 0 })).toThrow(RangeError);
  });
});
