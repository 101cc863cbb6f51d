/**
 * Several topics' offsets by timestamp in one round trip. kafkajs 2.2.4's admin answers
 * `fetchTopicOffsetsByTimestamp` one topic at a time, and for each asks the end offsets first and, once
 * they came back, the offsets by timestamp: two requests per topic, two round trips one after the other.
 * The attribution service asks this for its three table topics on nearly every batch (the table wait's
 * observation), so it cost two of the batch's round trips and six requests to the broker.
 *
 * This reader asks both at once, for every topic in one ListOffsets request per leader each, through a
 * kafkajs Cluster of its own made by the Kafka client's own factory (kafkajs exports none): the same
 * brokers, TLS, SASL, retry settings and logger as the client's admin, and the same isolation level.
 * The answer is kafkajs's: per partition, the first offset stamped at or after the timestamp, or the end
 * offset where no record is.
 *
 * The two requests may be answered in either order. A caller that relies on records appended after it
 * asked being stamped later than the timestamp (the attribution join rule) may: an end offset read before
 * the lookup by timestamp is what kafkajs gives too, and one read after it only counts more records.
 */
import type { Admin, Kafka } from 'kafkajs';
import { assertPinnedVersion } from './kafkajs-encoders';

/** The description of the Kafka client's private cluster factory (kafkajs's src/index.js). */
const CREATE_CLUSTER = 'private:Kafka:createCluster';

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

interface TopicPartitions {
  readonly topic: string;
  readonly partitions: ReadonlyArray<{ readonly partition: number }>;
  readonly fromBeginning?: boolean;
  readonly fromTimestamp?: number;
}

/** What the reader needs of kafkajs's Cluster. */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number }>;
  fetchTopicsOffset(
    topics: TopicPartitions[],
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

type CreateCluster = (options: { allowAutoTopicCreation: boolean }) => KafkajsCluster;

/** Offsets by timestamp of several topics, both lookups at once (see the file's comment). */
export class OffsetsByTimestampReader {
  private readonly cluster: KafkajsCluster;

  /** Throws when kafkajs is not the pinned version or its client has no cluster factory to use. */
  constructor(kafka: Kafka) {
    assertPinnedVersion();
    const key = Object.getOwnPropertySymbols(kafka).find((symbol) => symbol.description === CREATE_CLUSTER);
    const create = key === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[key];
    if (typeof create !== 'function')
      throw new Error(`kafkajs offsets: the Kafka client has no ${CREATE_CLUSTER} to make a cluster with`);
    this.cluster = (create as CreateCluster)({ allowAutoTopicCreation: false });
  }

  connect(): Promise<void> {
    return this.cluster.connect();
  }

  disconnect(): Promise<void> {
    return this.cluster.disconnect();
  }

  /**
   * Per partition of each topic, the first offset stamped at or after `timestampMs`, or the end offset
   * where there is none. A failure refreshes the metadata before it is thrown, so a moved leader is
   * found by the next call.
   */
  async offsetsByTimestamp(topics: readonly string[], timestampMs: number): Promise<PartitionOffset[]> {
    try {
      await this.cluster.addMultipleTargetTopics([...topics]);
      await this.cluster.refreshMetadataIfNecessary();
      const request = (lookup: Pick<TopicPartitions, 'fromBeginning' | 'fromTimestamp'>): TopicPartitions[] =>
        topics.map((topic) => ({
          topic,
          partitions: this.cluster
            .findTopicPartitionMetadata(topic)
            .map(({ partitionId }) => ({ partition: partitionId })),
          ...lookup,
        }));
      const [ends, stamped] = await Promise.all([
        this.cluster.fetchTopicsOffset(request({ fromBeginning: false })),
        this.cluster.fetchTopicsOffset(request({ fromTimestamp: timestampMs })),
      ]);
      const endOffsets = new Map<string, string>();
      for (const { topic, partitions } of ends)
        for (const { partition, offset } of partitions) endOffsets.set(`${topic}\u0000${partition}`, offset);
      return stamped.flatMap(({ topic, partitions }) =>
        partitions.map(({ partition, offset }) => {
          if (Number.parseInt(offset, 10) >= 0) return { topic, partition, offset };
          const end = endOffsets.get(`${topic}\u0000${partition}`);
          if (end === undefined) throw new Error(`kafkajs offsets: no end offset came back for ${topic}[${partition}]`);
          return { topic, partition, offset: end };
        }),
      );
    } catch (error) {
      await this.cluster.refreshMetadata().catch(() => undefined);
      throw error;
    }
  }
}

/**
 * The same answer from kafkajs's admin, as kafkajs gives it: one topic at a time, two round trips each,
 * the topics side by side. The reader's fallback, and what its spec compares it with.
 */
export async function adminOffsetsByTimestamp(
  admin: Pick<Admin, 'fetchTopicOffsetsByTimestamp'>,
  topics: readonly string[],
  timestampMs: number,
): Promise<PartitionOffset[]> {
  const perTopic = await Promise.all(
    topics.map(async (topic) =>
      (await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs)).map(({ partition, offset }) => ({
        topic,
        partition,
        offset,
      })),
    ),
  );
  return perTopic.flat();
}
