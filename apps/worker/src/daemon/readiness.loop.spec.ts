import type { CheckResult } from './readiness.checks';
import { CapturedLog } from './captured-log.mock';
import { ManualClock, settle } from './manual-clock.mock';
import { READINESS_RETRY, ReadinessLoop } from './readiness.loop';

describe('ReadinessLoop', () => {
  let clock: ManualClock;
  let log: CapturedLog;
  let rounds: CheckResult[][];
  let loop: ReadinessLoop;

  beforeEach(() => {
    clock = new ManualClock();
    log = new CapturedLog(() => clock.now());
    rounds = [];
    loop = new ReadinessLoop({ checks: () => Promise.resolve(rounds.shift() ?? [{ name: 'git', ok: true, detail: 'ok' }]), clock, logger: log.logger, random: () => 0.999 });
  });

  it('retries with backoff, logging what failed, until every check passes', async () => {
    const sandbox = { name: 'sandbox', ok: false, detail: 'bwrap missing' };
    rounds = [[sandbox, { name: 'git', ok: true, detail: 'ok' }], [sandbox]];
    const startedAt = clock.now();
    let ready: boolean | undefined;
    void loop.untilReady(() => true, new AbortController().signal).then((result) => (ready = result));
    await settle();
    expect(log.events('not-ready')).toEqual([expect.objectContaining({ failed: [{ name: 'sandbox', detail: 'bwrap missing' }] })]);
    await clock.advance(READINESS_RETRY.baseMs - 2);
    expect(log.events('not-ready')).toHaveLength(1);
    await clock.advance(1);
    expect(log.events('not-ready')).toHaveLength(2);
    expect(ready).toBeUndefined();
    await clock.advance(2 * READINESS_RETRY.baseMs);
    expect(ready).toBe(true);
    // Rounds at 0, 999 ms (1 s, full jitter) and 999 + 1998 ms (2 s, full jitter).
    expect(loop.lastCheckAt).toBe(startedAt + 999 + 1_998);
  });

  it('gives up when the daemon no longer waits to become ready, or stops', async () => {
    rounds = [[{ name: 'git', ok: false, detail: 'git not found on PATH' }]];
    let waiting = true;
    const stopping = new AbortController();
    const result = loop.untilReady(() => waiting, stopping.signal);
    await settle();
    waiting = false; // a drain began meanwhile
    stopping.abort();
    await expect(result).resolves.toBe(false);
    await expect(loop.untilReady(() => false, new AbortController().signal)).resolves.toBe(false);
    expect(loop.lastCheckAt).toBe(clock.now());
  });
});
