import { SharedLookups } from '@tributary/access';
import { kafkaClientOptions, kafkaCredentialProblem } from '@tributary/config';
import { catalogFor, ledgerApiReaderGroupPrefix, topicPrefix } from '@tributary/contracts';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Admin, Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { createConsumer, createKafkaClient, KAFKA_RETRY_DEFAULT } from '@tributary/kafka-client';
import { ApiError } from '../http/api-error';
import { LEDGER_API_CONFIG, type LedgerApiConfig } from '../ledger-api.config';

/** Offsets per partition of one topic. */
export type PartitionOffsets = Map<number, bigint>;

/**
 * Everything the API asks Kafka, all of it reads: high watermarks (lag), offsets by timestamp (time
 * ranges), a group's committed offsets (freshness), and one record at a known position (a decision to
 * explain). Each call is bounded by LEDGER_API_KAFKA_TIMEOUT_MS; Kafka being down is a 503, never a hang.
 */
@Injectable()
export class KafkaReader implements OnApplicationShutdown {
  private readonly kafka: Kafka;
  private admin: Admin | null = null;
  private connecting: Promise<Admin> | null = null;
  private recordReadsInFlight = 0;
  private readonly committedAsks = new SharedLookups<PartitionOffsets>();

  constructor(@Inject(LEDGER_API_CONFIG) private readonly config: LedgerApiConfig) {
    // Few retries and short timeouts: each API call is bounded by LEDGER_API_KAFKA_TIMEOUT_MS as a whole.
    this.kafka = createKafkaClient({
      ...kafkaClientOptions(config, `${config.KAFKA_CLIENT_ID}-ledger-api`),
      logLevel: logLevel.NOTHING,
      connectionTimeoutMs: Math.min(config.LEDGER_API_KAFKA_TIMEOUT_MS, 10_000),
      requestTimeoutMs: config.LEDGER_API_KAFKA_TIMEOUT_MS,
      retry: { ...KAFKA_RETRY_DEFAULT, retries: 2 },
    });
  }

  async highWatermarks(topic: string): Promise<PartitionOffsets> {
    const admin = await this.connectedAdmin();
    const offsets = await this.bounded(admin.fetchTopicOffsets(topic), `high watermarks of ${topic}`);
    return new Map(offsets.map(({ partition, high }) => [partition, BigInt(high)]));
  }

  /** Per partition, the first offset whose record timestamp is at or after `timestampMs` (the high watermark when none is). */
  async offsetsAt(topic: string, timestampMs: number): Promise<PartitionOffsets> {
    const admin = await this.connectedAdmin();
    const offsets = await this.bounded(
      admin.fetchTopicOffsetsByTimestamp(topic, timestampMs),
      `offsets of ${topic} at ${timestampMs}`,
    );
    return new Map(offsets.map(({ partition, offset }) => [partition, BigInt(offset)]));
  }

  /**
   * A group's committed offsets on a topic; partitions it never committed are absent. Callers asking
   * while one ask is under way share its answer (many clients polling GET /v1/freshness cost Kafka one
   * OffsetFetch at a time, not one each).
   */
  committedOffsets(groupId: string, topic: string): Promise<PartitionOffsets> {
    const key = `${groupId}\u0000${topic}`;
    return this.committedAsks.joining(key) ?? this.committedAsks.start(key, () => this.fetchCommitted(groupId, topic));
  }

  private async fetchCommitted(groupId: string, topic: string): Promise<PartitionOffsets> {
    const admin = await this.connectedAdmin();
    const [result] = await this.bounded(
      admin.fetchOffsets({ groupId, topics: [topic] }),
      `offsets of group ${groupId}`,
    );
    return new Map(
      (result?.partitions ?? [])
        .filter(({ offset }) => BigInt(offset) >= 0n)
        .map(({ partition, offset }) => [partition, BigInt(offset)]),
    );
  }

  /**
   * The committed record at (topic, partition, offset), or null if the log has none there. A consumer
   * of a throwaway group (no offsets committed, so it leaves no trace in the group list for long)
   * seeks to the offset and takes the first record. Bounded in number and in time.
   */
  async readRecord(topic: string, partition: number, offset: bigint): Promise<KafkaMessage | null> {
    if (this.recordReadsInFlight >= this.config.LEDGER_API_DECISION_READS_MAX) {
      throw ApiError.unavailable(
        `too many decision reads in flight (LEDGER_API_DECISION_READS_MAX=${this.config.LEDGER_API_DECISION_READS_MAX}); retry shortly`,
      );
    }
    this.recordReadsInFlight += 1;
    // A throwaway member reading one record: a short wait and session, few retries (as libs/messaging's readPartition).
    const consumer = createConsumer(this.kafka, {
      groupId: `${ledgerApiReaderGroupPrefix(catalogFor(topicPrefix()))}${randomUUID()}`,
      maxWaitTimeMs: 200,
      sessionTimeoutMs: 10_000,
      retry: { ...KAFKA_RETRY_DEFAULT, retries: 2 },
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: false });
      const found = new Promise<KafkaMessage | null>((resolve) => {
        void consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return;
            const message = batch.messages.find((candidate) => BigInt(candidate.offset) >= offset);
            // A committed record past the offset means none is at it (an aborted transaction or a control marker was).
            if (message) resolve(BigInt(message.offset) === offset ? message : null);
          },
        });
      });
      consumer.seek({ topic, partition, offset: offset.toString() });
      return await this.bounded(found, `the record at ${topic}[${partition}]@${offset}`);
    } finally {
      this.recordReadsInFlight -= 1;
      await consumer.disconnect().catch(() => undefined);
    }
  }

  /**
   * Start-up check: credentials Kafka refuses are a configuration error and stop the service with one
   * line; Kafka being unreachable is not (the API serves the ledger without it, and answers 503 for what
   * needs Kafka until it is back).
   */
  async assertCredentialsAccepted(): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
    } catch (error) {
      if (kafkaCredentialProblem(error)) throw error;
      Logger.warn(
        `Kafka did not answer at start-up (${(error as Error).message}); explain and freshness answer 503 until it does`,
        'KafkaReader',
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async connectedAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    this.connecting ??= (async () => {
      const admin = this.kafka.admin();
      await this.bounded(admin.connect(), 'a connection to Kafka');
      this.admin = admin;
      return admin;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async bounded<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            ApiError.unavailable(
              `Kafka did not answer for ${what} within ${this.config.LEDGER_API_KAFKA_TIMEOUT_MS} ms`,
            ),
          ),
        this.config.LEDGER_API_KAFKA_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw ApiError.unavailable(`Kafka refused ${what}: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
