/**
 * Batches that run apart from kafkajs's fetch loop.
 *
 * kafkajs fetches again only once every batch of the last fetch was handled (its fetcher waits for the
 * worker queue to drain), so a partition that finished its batch would wait for the slowest partition
 * of the fetch before its next records were even asked for. A consumer here instead hands each fetched
 * batch to its partition's lane and returns from eachBatch at once, marking the records fetched: the
 * fetches go on for every partition while batches run, and what a partition's fetches bring while its
 * batch runs waits in the lane, to run as one batch as soon as that one is done. Past `queuedMax`
 * records waiting, the consumer pauses the partition until the lane takes them.
 *
 * What that takes is kept here, with no Kafka in it: one batch at a time per partition, in order; at most
 * `concurrencyMax` lanes running at once in all (each batch holds a database connection while it runs);
 * and, once a lane settled, how it ended, for the partition's next lane and for whoever stops the consumer.
 */

/** How a partition's lane ended. */
export interface LaneOutcome {
  /** Every record handed to the lane was committed. */
  readonly finished: boolean;
  /** The consumer generation the lane started in (a rejoin or a fresh consumer starts a new one). */
  readonly generation: number;
  /** What a batch threw, or null when the lane finished or stopped of itself. */
  readonly error: unknown;
}

interface Lane<T> {
  readonly generation: number;
  /** Fetched while the lane's batch ran; the next batch takes them all. */
  queued: T[];
  /** False once the lane took its last batch: nothing more may be added to it. */
  open: boolean;
  /** Called when the lane takes what waited (a partition paused for a full queue is resumed). */
  readonly taken: Array<() => void>;
  /** Settles once the lane ended and its `after` ran; never rejects. */
  settled: Promise<LaneOutcome>;
}

export class PartitionLanes<T> {
  /** Per partition key, its last lane. */
  private readonly lanes = new Map<string, Lane<T>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrencyMax: number,
    /** Records that may wait in a lane before the consumer should pause its partition. */
    readonly queuedMax: number,
  ) {
    for (const [name, value] of Object.entries({ concurrencyMax, queuedMax }))
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`PartitionLanes: ${name} must be a positive integer, got ${value}`);
  }

  /**
   * Adds fetched records to the partition's lane when one of this generation still runs; they run with
   * its next batch. Returns how many now wait there, or null when no such lane takes them (`start` one).
   */
  add(key: string, generation: number, items: readonly T[]): number | null {
    const lane = this.lanes.get(key);
    if (lane === undefined || !lane.open || lane.generation !== generation) return null;
    lane.queued.push(...items);
    return lane.queued.length;
  }

  /** Calls `taken` once the partition's running lane takes what waits in it (at once when none runs). */
  whenTaken(key: string, taken: () => void): void {
    const lane = this.lanes.get(key);
    if (lane === undefined || !lane.open) taken();
    else lane.taken.push(taken);
  }

  /** The outcome of the partition's last lane once it settled; undefined when none ran here. */
  previous(key: string): Promise<LaneOutcome | undefined> {
    return this.lanes.get(key)?.settled ?? Promise.resolve(undefined);
  }

  /**
   * Waits until fewer than `concurrencyMax` lanes run and takes a place; the function returned gives it
   * back (a second call does nothing). `start` gives it back by itself when its lane settles.
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
   * Starts the partition's lane, in the place taken, without waiting for it: `batch` runs with `first`,
   * then with everything added meanwhile, until nothing waits or a batch does not finish (resolves
   * false, or throws). Once the lane settled its place is given back and `after` is called with its
   * outcome, before the partition's next lane may learn it (`previous`). `after` must not throw.
   */
  start(
    key: string,
    generation: number,
    leave: () => void,
    first: readonly T[],
    batch: (items: readonly T[]) => Promise<boolean>,
    after: (outcome: LaneOutcome) => void,
  ): void {
    const lane: Lane<T> = { generation, queued: [], open: true, taken: [], settled: new Promise(() => undefined) };
    this.lanes.set(key, lane);
    const run = async (): Promise<boolean> => {
      let items = first;
      for (;;) {
        if (!(await batch(items))) return false;
        items = lane.queued;
        lane.queued = [];
        if (items.length === 0) lane.open = false;
        for (const taken of lane.taken.splice(0)) taken();
        if (!lane.open) return true;
      }
    };
    lane.settled = run()
      .then(
        (finished): LaneOutcome => ({ finished, generation, error: null }),
        (error: unknown): LaneOutcome => ({ finished: false, generation, error }),
      )
      .then((outcome) => {
        lane.open = false;
        lane.queued = [];
        for (const taken of lane.taken.splice(0)) taken();
        leave();
        after(outcome);
        return outcome;
      });
  }

  /** Resolves once every lane started so far settled. */
  async settled(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.settled));
  }

  /** Lanes running now. */
  get size(): number {
    return this.running;
  }
}
