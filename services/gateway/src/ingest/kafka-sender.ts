// The gateway's Kafka producers. The gateway speaks for many producers, and each record's ce_source
// names the producer identity its API key is bound to; TributaryProducer fixes ce_source per instance,
// so the gateway encodes records with the same toRecord() and sends them with its own kafkajs producers,
// configured as TributaryProducer's are: idempotent, acks=all, one request in flight, no topic auto-creation.
import { Kafka, logLevel, Partitioners, Producer, RecordMetadata } from 'kafkajs';
import type { OutboundRecord } from '@tributary/contracts';
import type { PublishResult } from '@tributary/producer';
import { KafkaUnavailableError } from './rejection';

export interface KafkaSenderOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ackTimeoutMs: number;
  /** With one, every send is one Kafka transaction: all of its records or none become visible. */
  readonly transactionalId?: string;
}

/*
 * kafkajs retries an idempotent producer's sends without end by default, so a stopped broker would hold
 * a request forever. The gateway bounds them (a few quick retries, then a 503) and, because a send that
 * gave up leaves the producer's sequence numbers in doubt, throws the producer away after any failure:
 * the next one starts with a fresh producer id (and, for transactions, fences the old one).
 */
// Short first retries matter for transactions: right after a commit the broker answers the next
// transaction's first request with CONCURRENT_TRANSACTIONS until the commit markers are written.
const RETRY = { retries: 6, initialRetryTime: 20, maxRetryTime: 1_000 };
const CONNECTION_TIMEOUT_MS = 1_000;
const TRANSACTION_TIMEOUT_MS = 60_000;

export class KafkaSender {
  private readonly partitioner = Partitioners.DefaultPartitioner();
  /** One metadata lookup per topic, shared by every record that needs it (a batch must not open one admin client per record). */
  private readonly partitionCounts = new Map<string, Promise<number>>();
  private broken = false;

  private constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly options: KafkaSenderOptions,
  ) {}

  static async connect(options: KafkaSenderOptions): Promise<KafkaSender> {
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.ERROR,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: options.ackTimeoutMs,
      retry: RETRY,
    });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: RETRY,
      ...(options.transactionalId ? { transactionalId: options.transactionalId, transactionTimeout: TRANSACTION_TIMEOUT_MS } : {}),
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw new KafkaUnavailableError(`Kafka producer could not connect: ${(error as Error).message}`);
    }
    return new KafkaSender(kafka, producer, options);
  }

  /** False once a send failed: the owner replaces this sender. */
  get usable(): boolean {
    return !this.broken;
  }

  /** Sends the records (in one transaction when transactional); resolves once Kafka acknowledged all of them. */
  async send(records: readonly OutboundRecord[]): Promise<PublishResult[]> {
    if (this.broken) throw new KafkaUnavailableError('this producer failed before and is being replaced');
    try {
      const partitions = await Promise.all(records.map((record) => this.partitionOf(record)));
      const topicMessages = groupByTopic(records, partitions);
      const metadata = this.options.transactionalId
        ? await this.inTransaction(topicMessages)
        : await this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.options.ackTimeoutMs });
      return assignOffsets(records, partitions, metadata);
    } catch (error) {
      this.broken = true;
      throw error instanceof KafkaUnavailableError ? error : new KafkaUnavailableError(`Kafka did not acknowledge: ${(error as Error).message}`);
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }

  private async inTransaction(topicMessages: ReturnType<typeof groupByTopic>): Promise<RecordMetadata[]> {
    const transaction = await this.producer.transaction();
    try {
      const metadata = await transaction.sendBatch({ topicMessages, acks: -1, timeout: this.options.ackTimeoutMs });
      await transaction.commit();
      return metadata;
    } catch (error) {
      // If the abort cannot reach the broker either, the transaction times out there and is aborted
      // by Kafka itself, or by the next producer with this transactional id: never committed.
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  /** The partition Kafka's default partitioner gives the key, computed here so each event learns its offset. */
  private async partitionOf(record: OutboundRecord): Promise<number> {
    let count = this.partitionCounts.get(record.topic);
    if (count === undefined) {
      count = this.fetchPartitionCount(record.topic);
      this.partitionCounts.set(record.topic, count);
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

/** Kafka answers with each partition's base offset; records take consecutive offsets from it, in send order. */
function assignOffsets(records: readonly OutboundRecord[], partitions: readonly number[], metadata: RecordMetadata[]): PublishResult[] {
  const next = new Map(metadata.map((landed) => [`${landed.topicName}:${landed.partition}`, BigInt(landed.baseOffset ?? '-1')]));
  return records.map((record, index) => {
    const slot = `${record.topic}:${partitions[index]}`;
    const offset = next.get(slot);
    if (offset === undefined || offset < 0n) throw new KafkaUnavailableError(`Kafka acknowledged no write for ${slot}`);
    next.set(slot, offset + 1n);
    return { eventId: record.envelope.id, topic: record.topic, partition: partitions[index]!, offset: offset.toString() };
  });
}
