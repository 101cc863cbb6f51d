import { logLevel, type Kafka, type KafkaConfig, type Producer, type RecordMetadata, type Transaction } from 'kafkajs';
import {
  ceTypeOf,
  listEventContracts,
  RECORD_BATCH_OVERHEAD_BYTES,
  recordBytes,
  RECORD_BYTES_MAX,
  topicMaxMessageBytes,
  type OutboundRecord,
} from '@tributary/contracts';
// Pure and good for any kafkajs 2.x, like this client: nothing of Nest or TypeORM, no patch of kafkajs.
import { createIdempotentProducer, createKafkaClient, FreshAfterFailure, keyPartition } from '@tributary/kafka-client';
import { planSends } from './send-plan';

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
  /**
   * What the record batches of one produce request may hold together (Java's max.request.size); a send
   * of more is split into several requests (one transaction still, when transactional). Default 1 MiB.
   */
  readonly requestBytesMax?: number;
}

/** 1 MiB, as Java's producer (max.request.size) and the catalog's topics (max.message.bytes). */
export const REQUEST_BYTES_MAX_DEFAULT = RECORD_BYTES_MAX;

/**
 * An event whose Kafka record is larger than its topic's max.message.bytes (or than one produce request
 * may be): nothing of the send was sent. The message names the event, its size and the limit.
 */
export class RecordTooLargeError extends RangeError {
  override readonly name = 'RecordTooLargeError';

  constructor(
    readonly eventId: string,
    readonly topic: string,
    readonly bytes: number,
    readonly limitBytes: number,
    /** Which limit: the topic's max.message.bytes, or the sender's requestBytesMax. */
    readonly limitName: 'max.message.bytes' | 'requestBytesMax',
  ) {
    super(
      `event ${eventId} is ${bytes} bytes as a Kafka record (key, value, headers and framing), more than the ${limitBytes} bytes ` +
        (limitName === 'max.message.bytes'
          ? `${topic} takes (max.message.bytes)`
          : 'of one produce request (requestBytesMax)'),
    );
  }
}

/** Each event type's topic limit (the catalog's max.message.bytes), by the ce_type its records carry. */
const TOPIC_BYTES_MAX_BY_CE_TYPE: ReadonlyMap<string, number> = new Map(
  listEventContracts().map((contract) => [ceTypeOf(contract.eventType), topicMaxMessageBytes(contract.topic)]),
);

/** The max.message.bytes of the topic an encoded event goes to, from the topic catalog. */
export function topicBytesMaxOf(record: OutboundRecord): number {
  const limit = TOPIC_BYTES_MAX_BY_CE_TYPE.get(record.envelope.type);
  if (limit === undefined) throw new RangeError(`${record.envelope.type} is not an event type of the contracts`);
  return limit;
}

const measured = new WeakMap<OutboundRecord, number>();

/**
 * recordBytes (libs/contracts' size rule) of an encoded event, measured once per record object: the
 * gateway checks it, weighs it for its group commit and sends it, and a record is never changed.
 */
export function outboundRecordBytes(record: OutboundRecord): number {
  let bytes = measured.get(record);
  if (bytes === undefined) {
    bytes = recordBytes(record);
    measured.set(record, bytes);
  }
  return bytes;
}

/**
 * Refuses (RecordTooLargeError) an event whose record, alone in its batch, is larger than its topic's
 * max.message.bytes (the topic catalog's) or than one produce request may hold.
 */
export function assertRecordFits(record: OutboundRecord, requestBytesMax: number): void {
  const batchBytes = RECORD_BATCH_OVERHEAD_BYTES + outboundRecordBytes(record);
  const topicLimit = topicBytesMaxOf(record);
  if (batchBytes > topicLimit)
    throw new RecordTooLargeError(record.envelope.id, record.topic, batchBytes, topicLimit, 'max.message.bytes');
  if (batchBytes > requestBytesMax)
    throw new RecordTooLargeError(record.envelope.id, record.topic, batchBytes, requestBytesMax, 'requestBytesMax');
}

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
    private readonly producers: FreshAfterFailure,
    private readonly options: RecordSenderOptions,
  ) {}

  static async connect(options: RecordSenderOptions): Promise<RecordSender> {
    const retry = options.retry ?? RETRY_DEFAULT;
    const kafka = createKafkaClient({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.ERROR,
      requestTimeoutMs: options.ackTimeoutMs,
      retry,
      ...(options.connectionTimeoutMs ? { connectionTimeoutMs: options.connectionTimeoutMs } : {}),
      ...(options.ssl ? { ssl: options.ssl } : {}),
      ...(options.sasl ? { sasl: options.sasl } : {}),
    });
    const producers = new FreshAfterFailure(() => newProducer(kafka, options));
    await producers.ready();
    return new RecordSender(kafka, producers, options);
  }

  /**
   * Resolves once Kafka acknowledged every record; each result says where its record landed. A record
   * too large for its topic (or for one request) refuses the whole send before anything is sent
   * (RecordTooLargeError); records too many for one request go in several, one after the other, in one
   * transaction when transactional, so no batch the broker would refuse whole is ever sent.
   */
  async send(records: readonly OutboundRecord[]): Promise<PublishResult[]> {
    if (records.length === 0) return [];
    const requestBytesMax = this.options.requestBytesMax ?? REQUEST_BYTES_MAX_DEFAULT;
    const sizes = records.map((record) => outboundRecordBytes(record));
    for (const record of records) assertRecordFits(record, requestBytesMax);
    const partitions = await Promise.all(records.map((record) => this.partitionOf(record)));
    const topicLimits = new Map(records.map((record) => [record.topic, topicBytesMaxOf(record)]));
    const sends = planSends(
      records.map((record, index) => ({ topic: record.topic, partition: partitions[index]!, bytes: sizes[index]! })),
      { topicBytesMax: (topic) => topicLimits.get(topic)!, requestBytesMax },
    );
    const sendAll = async (
      sendBatch: (topicMessages: ReturnType<typeof groupByTopic>) => Promise<RecordMetadata[]>,
    ) => {
      const results: PublishResult[] = [];
      for (const [start, end] of sends) {
        const [slice, slicePartitions] = [records.slice(start, end), partitions.slice(start, end)];
        results.push(...assignOffsets(slice, slicePartitions, await sendBatch(groupByTopic(slice, slicePartitions))));
      }
      return results;
    };
    return this.producers.use((producer) =>
      this.options.transactionalId
        ? this.inTransaction(producer, (transaction) =>
            sendAll((topicMessages) =>
              transaction.sendBatch({ topicMessages, acks: -1, timeout: this.options.ackTimeoutMs }),
            ),
          )
        : sendAll((topicMessages) =>
            producer.sendBatch({ topicMessages, acks: -1, timeout: this.options.ackTimeoutMs }),
          ),
    );
  }

  async disconnect(): Promise<void> {
    await this.producers.disconnect();
  }

  private async inTransaction<T>(producer: Producer, send: (transaction: Transaction) => Promise<T>): Promise<T> {
    const transaction = await producer.transaction();
    try {
      const sent = await send(transaction);
      await transaction.commit();
      return sent;
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

/** A kafkajs producer for the sender's options: idempotent, acks=all, one request in flight. */
function newProducer(kafka: Kafka, options: RecordSenderOptions): Producer {
  return createIdempotentProducer(kafka, {
    retry: options.retry ?? RETRY_DEFAULT,
    ...(options.transactionalId
      ? { transactionalId: options.transactionalId, transactionTimeout: TRANSACTION_TIMEOUT_MS }
      : {}),
  });
}

function groupByTopic(records: readonly OutboundRecord[], partitions: readonly number[]) {
  const byTopic = new Map<
    string,
    Array<{ key: string; value: Buffer; headers: Record<string, string>; partition: number }>
  >();
  records.forEach((record, index) => {
    const messages = byTopic.get(record.topic) ?? [];
    messages.push({ key: record.key, value: record.value, headers: record.headers, partition: partitions[index]! });
    byTopic.set(record.topic, messages);
  });
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** Kafka answers with each partition's base offset; records take consecutive offsets from it, in send order. */
function assignOffsets(
  records: readonly OutboundRecord[],
  partitions: readonly number[],
  metadata: RecordMetadata[],
): PublishResult[] {
  const next = new Map(
    metadata.map((landed) => [`${landed.topicName}:${landed.partition}`, BigInt(landed.baseOffset ?? '-1')]),
  );
  return records.map((record, index) => {
    const slot = `${record.topic}:${partitions[index]}`;
    const offset = next.get(slot);
    if (offset === undefined || offset < 0n) throw new Error(`Kafka acknowledged no write for ${slot}`);
    next.set(slot, offset + 1n);
    return {
      eventId: record.envelope.id,
      topic: record.topic,
      partition: partitions[index]!,
      offset: offset.toString(),
    };
  });
}
