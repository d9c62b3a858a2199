import { CreditLedger } from './credit.ledger';

describe('CreditLedger', () => {
  let running: number;
  let sent: number[];
  let ledger: CreditLedger;
  const send = (credits: number) => {
    sent.push(credits);
    return true;
  };

  beforeEach(() => {
    running = 0;
    sent = [];
    ledger = new CreditLedger(3, () => running);
  });

  it('grants every free slot once, and nothing more until one is spent', () => {
    expect(ledger.topUp(send)).toBe(3);
    expect(ledger.topUp(send)).toBe(0);
    expect(sent).toEqual([3]);
    expect(ledger.outstanding).toBe(3);
  });

  it('keeps credits outstanding plus jobs running within capacity through instructions and finished jobs', () => {
    ledger.topUp(send);
    for (let i = 0; i < 3; i += 1) {
      ledger.spend();
      running += 1; // each instruction starts a job
      expect(ledger.outstanding + running).toBeLessThanOrEqual(3);
      expect(ledger.topUp(send)).toBe(0);
    }
    running -= 1; // one job finished
    expect(ledger.topUp(send)).toBe(1);
    expect(ledger.outstanding + running).toBe(3);
    expect(sent).toEqual([3, 1]);
  });

  it('gives back the credit of a refused instruction (spent, nothing started)', () => {
    ledger.topUp(send);
    ledger.spend();
    expect(ledger.grantable).toBe(1);
    expect(ledger.topUp(send)).toBe(1);
    expect(ledger.outstanding).toBe(3);
  });

  it('does not go below zero for an instruction that came without a credit', () => {
    running = 3;
    ledger.spend();
    expect(ledger.outstanding).toBe(0);
    expect(ledger.grantable).toBe(0);
  });

  it('starts each stream from no credits outstanding, granting the free slots again', () => {
    ledger.topUp(send);
    ledger.spend();
    running = 1;
    ledger.resetForStream();
    expect(ledger.outstanding).toBe(0);
    expect(ledger.topUp(send)).toBe(2);
    expect(sent).toEqual([3, 2]);
  });

  it('counts nothing as outstanding when the grant could not be sent (the audit log refused it)', () => {
    expect(ledger.topUp(() => false)).toBe(0);
    expect(ledger.outstanding).toBe(0);
    expect(ledger.topUp(send)).toBe(3);
  });

  it('reports free slots apart from promised ones, for the heartbeat', () => {
    ledger.topUp(send);
    running = 1;
    ledger.spend();
    expect(ledger.freeSlots).toBe(2);
    expect(ledger.grantable).toBe(0);
  });

  it('refuses a capacity that could never run a job', () => {
    expect(() => new CreditLedger(0, () => 0)).toThrow(RangeError);
    expect(() => new CreditLedger(1.5, () => 0)).toThrow(RangeError);
  });
});
