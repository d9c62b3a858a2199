import { RequestLedger } from './request-ledger';

describe('RequestLedger', () => {
  it('counts requests and matches per scenario, returning each match ordinal', () => {
    const ledger = new RequestLedger();

    ledger.recordRequest();
    ledger.recordRequest();
    ledger.recordRequest();
    const ordinals = [ledger.recordMatch('a'), ledger.recordMatch('b'), ledger.recordMatch('a')];

    expect(ordinals).toEqual([1, 1, 2]);
    expect(ledger.snapshot()).toEqual({ count: 3, byScenario: { a: 2, b: 1 } });
  });

  it('starts empty', () => {
    expect(new RequestLedger().snapshot()).toEqual({ count: 0, byScenario: {} });
  });
});
