/**
 * A replacement for kafkajs 2.2.4's produce request v3 (`protocol/requests/produce/v3/request`, which
 * v4 to v7 reuse): the same request object, whose `encode` builds the records and record batches of each
 * partition exactly as kafkajs does, but with libs/kafka-wire's exactly sized encoders, and writes the
 * whole request into one buffer of exactly its size.
 *
 * kafkajs frames each level (partition, topic, request) in a fresh `Encoder` that zero-fills a buffer of
 * the next power of two and copies the level below into it: three more copies of a 512 KiB send, after
 * the three of its RecordBatch. Here each batch is written once, in place, and the records' bytes are
 * copied once. A compressed send, or one whose shape kafkajs would refuse, is encoded by kafkajs's own
 * module, so its output or its error stays kafkajs's.
 */
import { Long } from './kafkajs-long';
import { encodeRecord, exactEncoder, type KafkajsEncoder, type RecordFields } from './kafkajs-record-encoder';
import { measureRecordBatch, writeRecordBatch, type RecordBatchFields } from './kafkajs-record-batch-encoder';

export const PRODUCE_REQUEST_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request';

interface Message extends RecordFields {
  timestamp?: string | number | null;
}

interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: Message[];
}

interface TopicData {
  topic: string;
  partitions: PartitionData[];
}

/** The argument of kafkajs's produce request v3, as its broker client passes it. */
export interface ProduceRequestFields {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}

export interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<KafkajsEncoder>;
}

export type ProduceRequestBuilder = (fields: ProduceRequestFields) => ProduceRequest;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
const { Produce: PRODUCE_API_KEY } = require('kafkajs/src/protocol/requests/apiKeys') as { Produce: number };

const COMPRESSION_NONE = 0;
const INT16_SIZE = 2;
const INT32_SIZE = 4;

/** A partition's records and batch fields, built as kafkajs's partitionsEncoder builds them, and its batch's size. */
interface PartitionBatch {
  readonly partition: number;
  readonly fields: RecordBatchFields;
  readonly size: number;
}

const { hasOwnProperty, propertyIsEnumerable } = Object.prototype;
const RECORD_FIELD_NAMES = ['key', 'value', 'headers'] as const;

/**
 * The record's fields as kafkajs passes them (`{ ...message, offsetDelta, timestampDelta }`), without the
 * spread where it reads the same: V8 builds that literal by a slow path, ~3 us per record. A plain message
 * gives the same key, value and headers read directly, unless one of them is an own property the spread
 * would skip (not enumerable).
 */
function recordFieldsOf(message: Message, offsetDelta: number, timestampDelta: number): RecordFields {
  if (Object.getPrototypeOf(message) !== Object.prototype) return { ...message, offsetDelta, timestampDelta };
  for (const name of RECORD_FIELD_NAMES) {
    if (hasOwnProperty.call(message, name) && !propertyIsEnumerable.call(message, name))
      return { ...message, offsetDelta, timestampDelta };
  }
  return { key: message.key, value: message.value, headers: message.headers, offsetDelta, timestampDelta };
}

function batchOf(
  data: PartitionData,
  transactionalId: string | null,
  producerId: unknown,
  producerEpoch: number,
): PartitionBatch {
  const { partition, messages, firstSequence } = data;
  const dateNow = Date.now();
  // kafkajs's order, sort included: timestamps are compared as strings, as kafkajs compares them.
  const messageTimestamps = messages
    .map((message) => message.timestamp)
    .filter((timestamp) => timestamp != null)
    .sort();
  const timestamps = messageTimestamps.length === 0 ? [dateNow] : messageTimestamps;
  const firstTimestamp = timestamps[0]!;
  const maxTimestamp = timestamps[timestamps.length - 1];
  const records = messages.map((message, index) =>
    encodeRecord(
      recordFieldsOf(message, index, ((message.timestamp || dateNow) as number) - (firstTimestamp as number)),
    ),
  );
  const fields: RecordBatchFields = {
    compression: COMPRESSION_NONE,
    records,
    firstTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    firstSequence,
    transactional: !!transactionalId,
    lastOffsetDelta: records.length - 1,
  };
  return { partition, fields, size: measureRecordBatch(fields) };
}

function writeString(buffer: Buffer, offset: number, value: string, length: number): number {
  offset = buffer.writeInt16BE(length, offset);
  return offset + buffer.write(value, offset, length, 'utf8');
}

/** kafkajs's own encoders handle what this one does not: a compressed send, or values it would refuse. */
function fitsFastPath(fields: ProduceRequestFields): boolean {
  const { compression = COMPRESSION_NONE, transactionalId = null, topicData } = fields;
  if (
    compression !== COMPRESSION_NONE ||
    (transactionalId !== null && typeof transactionalId !== 'string') ||
    !Array.isArray(topicData)
  )
    return false;
  return topicData.every(
    (data) =>
      typeof data?.topic === 'string' &&
      Array.isArray(data.partitions) &&
      data.partitions.every((partition) => Array.isArray(partition?.messages) && partition.messages.length > 0),
  );
}

async function encodeProduceRequest(
  fields: ProduceRequestFields,
  kafkajsProduceRequest: ProduceRequestBuilder,
): Promise<KafkajsEncoder> {
  const { acks, timeout, transactionalId = null, producerId = Long.fromInt(-1), producerEpoch = 0, topicData } = fields;
  const topics: Array<{ topic: string; length: number; batches: PartitionBatch[] }> = [];
  let size =
    INT16_SIZE +
    (transactionalId === null ? 0 : Buffer.byteLength(transactionalId, 'utf8')) +
    INT16_SIZE +
    INT32_SIZE +
    INT32_SIZE;
  for (const data of topicData) {
    const length = Buffer.byteLength(data.topic, 'utf8');
    const batches = data.partitions.map((partition) => batchOf(partition, transactionalId, producerId, producerEpoch));
    // A batch the fast path cannot write (records that fell back to kafkajs's encoder are still Encoders): kafkajs's whole request.
    if (batches.some((batch) => batch.size < 0)) return kafkajsProduceRequest(fields).encode();
    topics.push({ topic: data.topic, length, batches });
    size += INT16_SIZE + length + INT32_SIZE;
    for (const batch of batches) size += INT32_SIZE + INT32_SIZE + batch.size;
  }
  const buffer = Buffer.allocUnsafe(size);
  let offset =
    transactionalId === null
      ? buffer.writeInt16BE(-1, 0)
      : writeString(buffer, 0, transactionalId, Buffer.byteLength(transactionalId, 'utf8'));
  offset = buffer.writeInt16BE(acks, offset);
  offset = buffer.writeInt32BE(timeout, offset);
  offset = buffer.writeInt32BE(topics.length, offset);
  for (const { topic, length, batches } of topics) {
    offset = writeString(buffer, offset, topic, length);
    offset = buffer.writeInt32BE(batches.length, offset);
    for (const batch of batches) {
      offset = buffer.writeInt32BE(batch.partition, offset);
      offset = buffer.writeInt32BE(batch.size, offset);
      writeRecordBatch(batch.fields, buffer, offset, batch.size);
      offset += batch.size;
    }
  }
  if (offset !== size)
    throw new Error(`kafkajs produce request encoder: wrote ${offset} bytes into a request measured at ${size}`);
  return exactEncoder(buffer);
}

/**
 * Produce request v3 as kafkajs builds it, encoded by `encodeProduceRequest` where the fast path fits and
 * by `kafkajsProduceRequest` (kafkajs's own module, loaded with its own encoders bound) elsewhere.
 */
export function createProduceRequest(kafkajsProduceRequest: ProduceRequestBuilder): ProduceRequestBuilder {
  return (fields) => {
    if (!fitsFastPath(fields)) return kafkajsProduceRequest(fields);
    const { acks } = fields;
    return {
      apiKey: PRODUCE_API_KEY,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => acks !== 0,
      encode: () => encodeProduceRequest(fields, kafkajsProduceRequest),
    };
  };
}
