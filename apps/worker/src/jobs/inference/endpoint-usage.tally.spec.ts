import { EndpointUsageTally } from './endpoint-usage.tally';

const primary = { name: 'gpu-box', model: 'Qwen/Qwen2.5-Coder-32B-Instruct' };
const fallback = { name: 'cpu-box', model: 'qwen2.5-coder:7b' };

describe('EndpointUsageTally', () => {
  it('keeps one entry per endpoint, in configured order whatever order they were counted in', () => {
    const tally = new EndpointUsageTally();
    tally.requestSent(2, fallback);
    tally.answered(2, fallback, 100, 10);
    tally.requestSent(0, primary);
    tally.requestSent(2, fallback);
    tally.answered(2, fallback, 50, 5);
    expect(tally.entries()).toEqual([
      { endpointIndex: 0, endpoint: 'gpu-box', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 1, promptTokens: 0, completionTokens: 0 },
      { endpointIndex: 2, endpoint: 'cpu-box', model: 'qwen2.5-coder:7b', requests: 2, promptTokens: 150, completionTokens: 15 },
    ]);
    expect(tally.totals).toEqual({ requests: 3, promptTokens: 150, completionTokens: 15 });
  });

  it('counts what a server reported as a fraction, a negative or no number as a whole number or 0', () => {
    const tally = new EndpointUsageTally();
    tally.requestSent(0, primary);
    tally.answered(0, primary, 10.6, Number.NaN);
    tally.answered(0, primary, -5, Number.POSITIVE_INFINITY);
    expect(tally.entries()).toEqual([{ endpointIndex: 0, endpoint: 'gpu-box', model: primary.model, requests: 1, promptTokens: 11, completionTokens: 0 }]);
  });

  it('stops every total at what a uint32 holds, and keeps it the sum over the entries', () => {
    const tally = new EndpointUsageTally();
    tally.requestSent(0, primary);
    tally.answered(0, primary, 0xffff_fff0, 1);
    tally.requestSent(1, fallback);
    tally.answered(1, fallback, 0x100, 1);
    const entries = tally.entries();
    expect(entries.map((entry) => entry.promptTokens)).toEqual([0xffff_fff0, 0xf]);
    expect(tally.totals.promptTokens).toBe(0xffff_ffff);
    expect(entries.reduce((sum, entry) => sum + entry.promptTokens, 0)).toBe(tally.totals.promptTokens);
  });

  it('hands out copies: changing an entry it gave does not change the tally', () => {
    const tally = new EndpointUsageTally();
    tally.requestSent(0, primary);
    const [entry] = tally.entries() as Array<{ requests: number }>;
    entry!.requests = 99;
    expect(tally.entries()[0]?.requests).toBe(1);
  });
});
