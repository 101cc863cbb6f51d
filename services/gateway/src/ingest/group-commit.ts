/** A bound on what one bulk call holds besides its item count: each item's weight (bytes), and their most. */
export interface WeightBound<Item> {
  weigh(item: Item): number;
  readonly perCallMax: number;
}

/**
 * Coalesces concurrent calls into bulk operations: while `concurrentCallsMax` bulk calls run, new items
 * queue and go together in the next. Under load a request then costs a share of one database statement
 * or one Kafka produce request (or transaction) instead of a round trip of its own; when idle, an item
 * goes at once. With a weight bound, a bulk call takes items while their weights fit (always at least
 * one), so items that would make one call too large go in the next: no call fails for all of them
 * because of their sum. A failed call fails only the callers in it.
 */
export class GroupCommitter<Item, Result> {
  private readonly queue: Array<{
    item: Item;
    weight: number;
    resolve(result: Result): void;
    reject(error: Error): void;
  }> = [];
  private running = 0;

  constructor(
    /** Must answer one result per item, in order. */
    private readonly bulk: (items: readonly Item[]) => Promise<readonly Result[]>,
    private readonly itemsPerCallMax: number,
    private readonly queuedMax: number,
    private readonly overloaded: (queued: number) => Error,
    private readonly weightBound?: WeightBound<Item>,
    /** Bulk calls at once (a pool of producers); 1 keeps them strictly one after another. */
    private readonly concurrentCallsMax = 1,
  ) {
    if (!Number.isInteger(concurrentCallsMax) || concurrentCallsMax < 1)
      throw new RangeError('concurrentCallsMax must be a positive integer');
  }

  get queued(): number {
    return this.queue.length;
  }

  submit(item: Item): Promise<Result> {
    // Full only when nothing could start now: with every call busy, queuedMax items may wait.
    if (this.running >= this.concurrentCallsMax && this.queue.length >= this.queuedMax)
      return Promise.reject(this.overloaded(this.queue.length));
    const weight = this.weightBound?.weigh(item) ?? 0;
    const done = new Promise<Result>((resolve, reject) => this.queue.push({ item, weight, resolve, reject }));
    this.pump();
    return done;
  }

  /** Starts bulk calls while there are queued items and a call may start. */
  private pump(): void {
    while (this.queue.length > 0 && this.running < this.concurrentCallsMax) {
      const taken = this.queue.splice(0, this.takeCount());
      this.running += 1;
      void Promise.resolve()
        .then(() => this.bulk(taken.map((entry) => entry.item)))
        .then(
          (results) => taken.forEach((entry, index) => entry.resolve(results[index]!)),
          (error: unknown) => taken.forEach((entry) => entry.reject(error as Error)),
        )
        .finally(() => {
          this.running -= 1;
          this.pump();
        });
    }
  }

  /** How many queued items the next bulk call takes: at most itemsPerCallMax, and within the weight bound. */
  private takeCount(): number {
    const most = Math.min(this.itemsPerCallMax, this.queue.length);
    if (this.weightBound === undefined) return most;
    let weight = this.queue[0]!.weight;
    let count = 1;
    while (count < most && weight + this.queue[count]!.weight <= this.weightBound.perCallMax)
      weight += this.queue[count++]!.weight;
    return count;
  }
}
