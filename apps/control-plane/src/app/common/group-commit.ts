/**
 * Group commit: items submitted while a commit is running, or within the same tick, are
 * committed together by the next call of `commit`, one transaction for many. At most one
 * commit runs at a time, so the batches of one committer never contend with each other, and
 * the busier the database, the larger the batches (as PostgreSQL's own group commit of WAL).
 *
 * `commit` gets the items in submission order and answers one outcome per item, in that
 * order. If it throws, nothing of the batch was committed, and each item is committed again
 * on its own: one item the database refuses fails only its submitter.
 */
export class GroupCommit<Item, Outcome> {
  private waiting: { item: Item; resolve: (outcome: Outcome) => void; reject: (error: unknown) => void }[] = [];
  private running = false;
  private scheduled = false;

  constructor(
    private readonly commit: (items: readonly Item[]) => Promise<readonly Outcome[]>,
    /** The most items one commit takes; the rest wait for the next. */
    private readonly maxBatch: number,
  ) {
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError('maxBatch: expected a positive integer');
  }

  /** Resolves with the item's outcome once the commit that took it has finished. */
  submit(item: Item): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Submits several items at once; resolves with their outcomes in order. */
  submitAll(items: readonly Item[]): Promise<Outcome[]> {
    return Promise.all(items.map((item) => this.submit(item)));
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // After the current tick, so that what else arrives in it joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async commitChecked(items: readonly Item[]): Promise<readonly Outcome[]> {
    const outcomes = await this.commit(items);
    if (outcomes.length !== items.length) throw new Error(`group commit answered ${outcomes.length} outcomes for ${items.length} items`);
    return outcomes;
  }

  private async run(): Promise<void> {
    if (this.running || this.waiting.length === 0) return;
    this.running = true;
    const batch = this.waiting.splice(0, this.maxBatch);
    try {
      const outcomes = await this.commitChecked(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => entry.resolve(outcomes[index]!));
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      else for (const entry of batch) await this.commitChecked([entry.item]).then(([outcome]) => entry.resolve(outcome!), entry.reject);
    } finally {
      this.running = false;
      if (this.waiting.length > 0) this.schedule();
    }
  }
}
