/**
 * Coalesces concurrent calls into one bulk operation: while one bulk call runs, new items queue and go
 * together in the next. Under load a single-event request then costs a share of one database statement
 * or one Kafka produce request instead of a round trip of its own; when idle, an item goes at once.
 */
export class GroupCommitter<Item, Result> {
  private readonly queue: Array<{ item: Item; resolve(result: Result): void; reject(error: Error): void }> = [];
  private running = false;

  constructor(
    /** Must answer one result per item, in order. */
    private readonly bulk: (items: readonly Item[]) => Promise<readonly Result[]>,
    private readonly itemsPerCallMax: number,
    private readonly queuedMax: number,
    private readonly overloaded: (queued: number) => Error,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  submit(item: Item): Promise<Result> {
    if (this.queue.length >= this.queuedMax) return Promise.reject(this.overloaded(this.queue.length));
    const done = new Promise<Result>((resolve, reject) => this.queue.push({ item, resolve, reject }));
    if (!this.running) void this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const taken = this.queue.splice(0, this.itemsPerCallMax);
        try {
          const results = await this.bulk(taken.map((entry) => entry.item));
          taken.forEach((entry, index) => entry.resolve(results[index]!));
        } catch (error) {
          taken.forEach((entry) => entry.reject(error as Error));
        }
      }
    } finally {
      this.running = false;
    }
  }
}
