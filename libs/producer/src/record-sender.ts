import { Kafka, logLevel, Partitioners, Producer, RecordMetadata, Transaction, type KafkaConfig } from 'kafkajs';
import type { OutboundRecord } from '@tributary/contracts';
// Not through @tributary/messaging's index, which would bring Nest and TypeORM into a producer client.
import { kafkaLogCreator } from '../../messaging/src/kafka-log';
import { installKafkajsEncoders } from '../../messaging/src/kafkajs-encoders';
import { keyPartition } from '../../messaging/src/key-partition';

/** Where an acknowledged event landed: Kafka holds it durably (acks=all) at this position. */
export interface PublishResult {
  readonly eventId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface RecordSenderOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** How long a send may wait for the broker's acknowledgement before it fails. */
  readonly ackTimeoutMs: number;
  /** With one, every send is one Kafka transaction: all of its records or none become visible. */
  readonly transactionalId?: string;
  /** Bounded: a broker that stays down fails the send instead of leaving it pending for good. */
  readonly retry?: { readonly retries: number; readonly initialRetryTime: number; readonly maxRetryTime: number };
  readonly connectionTimeoutMs?: number;
  /** TLS towards the brokers (kafkajs's `ssl`): the CA that signed their certificates. */
  readonly ssl?: KafkaConfig['ssl'];
  /** The principal's credentials (kafkajs's `sasl`), e.g. `{ mechanism: 'scram-sha-512', username, password }`. */
  readonly sasl?: KafkaConfig['sasl'];
}

// kafkajs encodes this library's produce requests with libs/messaging's exactly sized encoder (the same bytes).
installKafkajsEncoders();

const RETRY_DEFAULT = { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 };
const TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * Sends encoded records (toRecord's output) with the idempotent producer, acks=all and one request in
 * flight, in one transaction when transactional, and reports each record's own partition and offset.
 * The one place Tributary's producers (the client library, the gateway) talk to Kafka.
 */
export class RecordSender {
  /** One metadata lookup per topic, shared by every record of a batch that needs it. */
  private readonly partitionCounts = new Map<string, Promise<number>>();

  private constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly options: RecordSenderOptions,
  ) {}

  static async connect(options: RecordSenderOptions): Promise<RecordSender> {
    const retry = options.retry ?? RETRY_DEFAULT;
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.ERROR,
      logCreator: kafkaLogCreator,
      requestTimeout: options.ackTimeoutMs,
      retry,
      ...(options.connectionTimeoutMs ? { connectionTimeout: options.connectionTimeoutMs } : {}),
      ...(options.ssl ? { ssl: options.ssl } : {}),
      ...(options.sasl ? { sasl: options.sasl } : {}),
    });
    const producer = kafka.producer({
      idempotent: true,
      // kafkajs keeps ordering and idempotence only with one request in flight.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry,
      ...(options.transactionalId ? { transactionalId: options.transactionalId, transactionTimeout: TRANSACTION_TIMEOUT_MS } : {}),
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    return new RecordSender(kafka, producer, options);
  }

  /** Resolves once Kafka acknowledged every record; each result says where its record landed. */
  async send(records: readonly OutboundRecord[]): Promise<PublishResult[]> {
    if (records.length === 0) return [];
    const partitions = await Promise.all(records.map((record) => this.partitionOf(record)));
    const topicMessages = groupByTopic(records, partitions);
    const metadata = this.options.transactionalId
      ? await this.inTransaction((transaction) => transaction.sendBatch({ topicMessages, acks: -1, timeout: this.options.ackTimeoutMs }))
      : await this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.options.ackTimeoutMs });
    return assignOffsets(records, partitions, metadata);
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  private async inTransaction(send: (transaction: Transaction) => Promise<RecordMetadata[]>): Promise<RecordMetadata[]> {
    const transaction = await this.producer.transaction();
    try {
      const metadata = await send(transaction);
      await transaction.commit();
      return metadata;
    } catch (error) {
      // If the abort cannot reach the broker either, the transaction times out there and is aborted
      // by Kafka itself, or by the next producer with this transactional id: never committed.
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  /**
   * The partition Kafka's default partitioner gives the key. Computing it here (instead of leaving it
   * to the send) is what lets a batch report each record's own offset.
   */
  private async partitionOf(record: OutboundRecord): Promise<number> {
    let count = this.partitionCounts.get(record.topic);
    if (count === undefined) {
      count = this.fetchPartitionCount(record.topic);
      this.partitionCounts.set(record.topic, count);
      // A failed lookup is not cached: the next send asks again.
      count.catch(() => this.partitionCounts.delete(record.topic));
    }
    return keyPartition(record.key, await count);
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

/** Kafka answers with each partition's base offset; records take consecutive offsets from it, in send order. */
function assignOffsets(records: readonly OutboundRecord[], partitions: readonly number[], metadata: RecordMetadata[]): PublishResult[] {
  const next = new Map(metadata.map((landed) => [`${landed.topicName}:${landed.partition}`, BigInt(landed.baseOffset ?? '-1')]));
  return records.map((record, index) => {
    const slot = `${record.topic}:${partitions[index]}`;
    const offset = next.get(slot);
    if (offset === undefined || offset < 0n) throw new Error(`Kafka acknowledged no write for ${slot}`);
    next.set(slot, offset + 1n);
    return { eventId: record.envelope.id, topic: record.topic, partition: partitions[index]!, offset: offset.toString() };
  });
}
