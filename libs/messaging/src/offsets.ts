/** A consumer's position in one partition, as an offset store keeps it. */
export interface StoredOffset {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume, as Kafka's committed offsets mean it. */
  readonly offset: string;
}

/** A map key of one partition of one topic. */
export const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Where a consumer keeps its positions beside its handler's effects (libs/persistence's
 * PostgresOffsetStore); the consumer seeks to them on assignment.
 */
export interface OffsetStore {
  load(groupId: string, topics: readonly string[]): Promise<StoredOffset[]>;
  /** Moves a partition's stored offset forward (never back) past offsets no handler saw. */
  advance(groupId: string, topic: string, partition: number, nextOffset: string): Promise<void>;
}

/** The offset after `offset` (a kafkajs offset string): where a consumer resumes once done with it. */
export function nextOffsetAfter(offset: string): bigint {
  return BigInt(offset) + 1n;
}
