/**
 * The worker's side of flow control (docs/worker-protocol.md, Credits): credits outstanding
 * plus jobs running never exceed capacity. Credits are incremental and belong to one
 * stream, so a new stream (or a lost one) starts again from none outstanding. Each
 * instruction that arrives spends one; each slot that frees up (a refusal, a finished job)
 * is granted again by the next `topUp`.
 *
 * Running jobs are counted by whoever holds them (the job slots), so the two never disagree.
 */
export class CreditLedger {
  private outstandingCredits = 0;

  constructor(
    readonly capacity: number,
    private readonly running: () => number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`CreditLedger: expected a capacity ≥ 1, got ${capacity}`);
  }

  /** Credits granted on this stream that no instruction has spent yet. */
  get outstanding(): number {
    return this.outstandingCredits;
  }

  /** Slots neither running nor already promised: what a grant may offer now. */
  get grantable(): number {
    return Math.max(0, this.capacity - this.running() - this.outstandingCredits);
  }

  /** Slots not running a job, whatever has been promised (the heartbeat's `freeSlots`). */
  get freeSlots(): number {
    return Math.max(0, this.capacity - this.running());
  }

  /** A stream began or ended: the control plane forgets the old stream's credits, and so does this. */
  resetForStream(): void {
    this.outstandingCredits = 0;
  }

  /**
   * An instruction arrived. It spent one outstanding credit — or none, if it came without
   * one (then the worker refuses it WORKER_AT_CAPACITY and gives nothing back).
   */
  spend(): void {
    this.outstandingCredits = Math.max(0, this.outstandingCredits - 1);
  }

  /**
   * Grants every grantable slot through `send` (a CreditGrant of that many); counts them as
   * outstanding only if the grant was sent. Returns the credits granted.
   */
  topUp(send: (credits: number) => boolean): number {
    const credits = this.grantable;
    if (credits <= 0 || !send(credits)) return 0;
    this.outstandingCredits += credits;
    return credits;
  }
}
