import { partitionKey, type StoredOffset } from './offsets';

/**
 * Kafka's copy of a group's offsets when the database holds the authoritative one (the offset store,
 * moved in the handler's own transaction). That copy is for lag tools (`kafka-consumer-groups
 * --describe`) and nothing reads it to decide where to consume from, so it is not written in the path of
 * every batch: a committed batch notes its partition's next offset here and goes on, and the noted
 * offsets of all partitions go to Kafka in one OffsetCommit, at most one every `intervalMs` and one at a
 * time. What is noted while a commit is in flight goes in the next one.
 *
 * Before the consumer leaves its generation (close, a rebalance) the owner calls flush(), so the next
 * owner of a partition finds Kafka's copy where the database is. A commit that fails is handed to
 * `failed` and its offsets are dropped, not retried: the partition's next noted offset carries it on,
 * and a lost one only leaves Kafka's copy behind the database's until then.
 */
export class LagCopyCommits {
  private readonly pending = new Map<string, StoredOffset>();
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly commit: (offsets: StoredOffset[]) => Promise<void>,
    private readonly intervalMs: number,
    private readonly failed: (error: unknown, offsets: readonly StoredOffset[]) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The partition's next offset, to reach Kafka with the next commit (a later note replaces it). */
  note(offset: StoredOffset): void {
    this.pending.set(partitionKey(offset.topic, offset.partition), offset);
    this.schedule();
  }

  /**
   * Keeps only the noted offsets of partitions this member holds in its new generation: another member
   * owns the rest now, and a stale offset of this one's would move that member's copy back.
   */
  retain(assignment: Readonly<Record<string, readonly number[]>>): void {
    for (const [key, { topic, partition }] of this.pending) {
      if (!assignment[topic]?.includes(partition)) this.pending.delete(key);
    }
  }

  /** Commits everything noted so far, and waits for that and for a commit already in flight. */
  async flush(): Promise<void> {
    while (this.inFlight !== null || this.pending.size > 0) await (this.inFlight ?? this.send());
  }

  /** Offsets noted and not yet sent (for tests). */
  get pendingCount(): number {
    return this.pending.size;
  }

  private schedule(): void {
    if (this.timer !== null || this.inFlight !== null || this.pending.size === 0) return;
    const waitMs = Math.max(0, this.lastSentAt + this.intervalMs - this.now());
    this.timer = setTimeout(() => void this.send(), waitMs);
    this.timer.unref();
  }

  private send(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight !== null) return this.inFlight;
    const offsets = [...this.pending.values()];
    this.pending.clear();
    if (offsets.length === 0) return Promise.resolve();
    this.lastSentAt = this.now();
    const sent = this.commit(offsets)
      .catch((error: unknown) => this.failed(error, offsets))
      .finally(() => {
        this.inFlight = null;
        this.schedule();
      });
    this.inFlight = sent;
    return sent;
  }
}
