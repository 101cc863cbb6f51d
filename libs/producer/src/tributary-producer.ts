import { Kafka, logLevel, Partitioners, Producer, RecordMetadata, Transaction } from 'kafkajs';
import { toRecord, type EventData, type EventType, type OutboundRecord, type PublishOptions } from '@tributary/contracts';

export interface TributaryProducerOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** ce_source of everything this producer publishes: who is speaking. */
  readonly source: string;
  readonly topicPrefix?: string;
  /** Set it to make publishBatch all-or-nothing (a Kafka transaction); one id per producer instance. */
  readonly transactionalId?: string;
  /** How long a send may wait for the broker's acknowledgement before it fails. */
  readonly ackTimeoutMs?: number;
}

export interface EventToPublish<T extends EventType = EventType> {
  readonly type: T;
  readonly data: EventData<T>;
  readonly traceparent?: string;
  readonly time?: Date;
}

/** Where an acknowledged event landed: Kafka holds it durably (acks=all) at this position. */
export interface PublishResult {
  readonly eventId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export const BATCH_EVENTS_MAX = 1_000;
const ACK_TIMEOUT_MS_DEFAULT = 30_000;

/**
 * The typed producer client: the library a producer outside this repo uses to publish Tributary
 * events straight to Kafka. Every event is validated and encoded before anything is sent; sends use
 * the idempotent producer with acks=all, so a result means the event is durable.
 */
export class TributaryProducer {
  private readonly partitioner = Partitioners.DefaultPartitioner();
  /** One metadata lookup per topic, shared by every record of a batch that needs it. */
  private readonly partitionCounts = new Map<string, Promise<number>>();

  private constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly options: TributaryProducerOptions,
  ) {}

  static async connect(options: TributaryProducerOptions): Promise<TributaryProducer> {
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      // Bounded: a broker that stays down fails the publish (the caller retries with the same event
      // id, which is harmless) instead of leaving it pending for good.
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    const producer = kafka.producer({
      idempotent: true,
      // kafkajs keeps ordering and idempotence only with one request in flight.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      ...(options.transactionalId ? { transactionalId: options.transactionalId, transactionTimeout: 60_000 } : {}),
    });
    await producer.connect();
    return new TributaryProducer(kafka, producer, options);
  }

  /** Validates, encodes and publishes one event; resolves once Kafka acknowledged it. */
  async publish<T extends EventType>(type: T, data: EventData<T>, extra: Omit<EventToPublish<T>, 'type' | 'data'> = {}): Promise<PublishResult> {
    const record = toRecord(type, data, this.publishOptions(extra));
    const metadata = await this.producer.send({
      topic: record.topic,
      acks: -1,
      timeout: this.ackTimeoutMs(),
      messages: [{ key: record.key, value: record.value, headers: record.headers }],
    });
    const landed = metadata[0]!;
    return { eventId: record.envelope.id, topic: record.topic, partition: landed.partition, offset: landed.baseOffset ?? '-1' };
  }

  /**
   * Publishes up to BATCH_EVENTS_MAX events. All are validated before any is sent: one invalid event
   * refuses the whole batch. With a transactionalId the batch is atomic (read_committed consumers see
   * all of it or none); without one, events may land in part if the broker fails midway.
   */
  async publishBatch(events: readonly EventToPublish[]): Promise<PublishResult[]> {
    if (events.length === 0) return [];
    if (events.length > BATCH_EVENTS_MAX) throw new RangeError(`a batch holds at most ${BATCH_EVENTS_MAX} events, got ${events.length}`);
    const records = events.map((event) => toRecord(event.type, event.data, this.publishOptions(event)));
    const partitions = await Promise.all(records.map((record) => this.partitionOf(record)));
    const topicMessages = groupByTopic(records, partitions);
    const metadata = this.options.transactionalId
      ? await this.inTransaction((transaction) => transaction.sendBatch({ topicMessages, acks: -1, timeout: this.ackTimeoutMs() }))
      : await this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.ackTimeoutMs() });
    return assignOffsets(records, partitions, metadata);
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  private publishOptions(extra: { traceparent?: string; time?: Date }): PublishOptions {
    return {
      source: this.options.source,
      ...(this.options.topicPrefix ? { topicPrefix: this.options.topicPrefix } : {}),
      ...(extra.traceparent ? { traceparent: extra.traceparent } : {}),
      ...(extra.time ? { time: extra.time } : {}),
    };
  }

  private ackTimeoutMs(): number {
    return this.options.ackTimeoutMs ?? ACK_TIMEOUT_MS_DEFAULT;
  }

  private async inTransaction(send: (transaction: Transaction) => Promise<RecordMetadata[]>): Promise<RecordMetadata[]> {
    const transaction = await this.producer.transaction();
    try {
      const metadata = await send(transaction);
      await transaction.commit();
      return metadata;
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  /**
   * The partition Kafka's default partitioner gives the key. Computing it here (instead of leaving it
   * to the send) is what lets a batch report each event's own offset.
   */
  private async partitionOf(record: OutboundRecord): Promise<number> {
    let count = this.partitionCounts.get(record.topic);
    if (count === undefined) {
      count = this.fetchPartitionCount(record.topic);
      this.partitionCounts.set(record.topic, count);
      // A failed lookup is not cached: the next batch asks again.
      count.catch(() => this.partitionCounts.delete(record.topic));
    }
    const partitionMetadata = Array.from({ length: await count }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [], isr: [], partitionErrorCode: 0 }));
    return this.partitioner({ topic: record.topic, partitionMetadata, message: { key: record.key, value: record.value } });
  }

  private async fetchPartitionCount(topic: string): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      return metadata.topics[0]!.partitions.length;
    } finally {
      await admin.disconnect();
    }
  }
}

function groupByTopic(records: readonly OutboundRecord[], partitions: readonly number[]) {
  const byTopic = new Map<string, Array<{ key: string; value: Buffer; headers: Record<string, string>; partition: number }>>();
  records.forEach((record, index) => {
    const messages = byTopic.get(record.topic) ?? [];
    messages.push({ key: record.key, value: record.value, headers: record.headers, partition: partitions[index]! });
    byTopic.set(record.topic, messages);
  });
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** Kafka answers with each partition's base offset; events take consecutive offsets from it, in send order. */
function assignOffsets(records: readonly OutboundRecord[], partitions: readonly number[], metadata: RecordMetadata[]): PublishResult[] {
  const next = new Map(metadata.map((landed) => [`${landed.topicName}:${landed.partition}`, BigInt(landed.baseOffset ?? '-1')]));
  return records.map((record, index) => {
    const slot = `${record.topic}:${partitions[index]}`;
    const offset = next.get(slot);
    if (offset === undefined) throw new Error(`Kafka acknowledged no write for ${slot}`);
    next.set(slot, offset + 1n);
    return { eventId: record.envelope.id, topic: record.topic, partition: partitions[index]!, offset: offset.toString() };
  });
}
