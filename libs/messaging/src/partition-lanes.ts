/**
 * Batches that run apart from kafkajs's fetch loop.
 *
 * kafkajs fetches again only once every batch of the last fetch was handled (its fetcher waits for the
 * worker queue to drain), so a partition that finished its batch waits for the slowest partition of the
 * fetch before its next records are even asked for. A consumer here instead pauses a partition while its
 * batch runs, marks the batch's records fetched and returns from eachBatch at once: the fetches go on for
 * the other partitions, and when the batch settles the partition is resumed, its next batch holding
 * everything that arrived meanwhile.
 *
 * What that takes is kept here, with no Kafka in it: one batch at a time per partition, in order; at most
 * `concurrencyMax` at once in all (each holds a database connection while it runs); and, once a batch
 * settled, how it ended, for the partition's next batch and for whoever stops the consumer.
 */

/**
 * How long the broker holds a fetch that finds nothing new, for a consumer whose partitions run apart. A
 * partition resumed while a fetch of quiet partitions waits is asked for again only by the next fetch, so
 * records that reached it meanwhile may wait this long. An idle consumer fetches this often.
 */
export const LANES_FETCH_WAIT_MS = 50;

/** How a partition's batch ended. */
export interface LaneOutcome {
  /** Every record of the batch was committed. */
  readonly finished: boolean;
  /** The consumer generation the batch started in (a rejoin or a fresh consumer starts a new one). */
  readonly generation: number;
  /** What the batch threw, or null when it finished or stopped of itself. */
  readonly error: unknown;
}

export class PartitionLanes {
  /** Per partition key, its last batch; settles once the batch and its `after` ran. Never rejects. */
  private readonly lanes = new Map<string, Promise<LaneOutcome>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly concurrencyMax: number) {
    if (!Number.isInteger(concurrencyMax) || concurrencyMax < 1)
      throw new Error(`PartitionLanes: concurrencyMax must be a positive integer, got ${concurrencyMax}`);
  }

  /** The outcome of the partition's last batch once it settled; undefined when none ran here. */
  previous(key: string): Promise<LaneOutcome | undefined> {
    return this.lanes.get(key) ?? Promise.resolve(undefined);
  }

  /**
   * Waits until fewer than `concurrencyMax` batches run and takes a place; the function returned gives
   * it back (a second call does nothing). `run` gives it back by itself when its batch settles.
   */
  async place(): Promise<() => void> {
    while (this.running >= this.concurrencyMax) await new Promise<void>((freed) => this.waiting.push(freed));
    this.running += 1;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.running -= 1;
      this.waiting.shift()?.();
    };
  }

  /**
   * Runs the partition's batch without waiting for it, in the place taken. Once it settles the place is
   * given back and `after` is called with its outcome, before the partition's next batch may learn it
   * (`previous`). `batch` resolves true when every record was committed.
   */
  run(
    key: string,
    generation: number,
    leave: () => void,
    batch: () => Promise<boolean>,
    after: (outcome: LaneOutcome) => void,
  ): void {
    const lane = batch()
      .then(
        (finished): LaneOutcome => ({ finished, generation, error: null }),
        (error: unknown): LaneOutcome => ({ finished: false, generation, error }),
      )
      .then((outcome) => {
        leave();
        after(outcome);
        return outcome;
      });
    this.lanes.set(key, lane);
  }

  /** Resolves once every batch started so far settled. */
  async settled(): Promise<void> {
    await Promise.all(this.lanes.values());
  }

  /** Batches running now. */
  get size(): number {
    return this.running;
  }
}
