/**
 * A replacement for kafkajs 2.2.4's uncompressed `RecordBatch` (`protocol/recordBatch/v0`), the frame
 * around the records of one partition in a produce request.
 *
 * kafkajs writes the batch body into an `Encoder` that starts at 512 bytes and doubles (eleven
 * zero-filled buffers, each copied into the next, on the way to 1 MiB for a 512 KiB send), copies the
 * body into a second Encoder behind the CRC, and that into a third behind the offset and length, and
 * computes the CRC-32C a byte at a time. `writeRecordBatch` writes the batch once, in place in the
 * produce request's buffer, copying each record once, with an eight-bytes-a-step CRC-32C; the bytes
 * are kafkajs's (a spec compares them). A compressed batch, or records that are not kafkajs Encoders,
 * are kafkajs's own function's to encode.
 */
import { crc32c } from './crc32c';
import { Long } from './kafkajs-long';
import { Encoder, exactEncoder, type KafkajsEncoder } from './kafkajs-record-encoder';

export const RECORD_BATCH_MODULE = 'kafkajs/src/protocol/recordBatch/v0';

/** The argument of kafkajs's RecordBatch v0, as its produce request passes it. */
export interface RecordBatchFields {
  compression?: number;
  firstOffset?: unknown;
  firstTimestamp?: unknown;
  maxTimestamp?: unknown;
  partitionLeaderEpoch?: number;
  lastOffsetDelta?: number;
  transactional?: boolean;
  producerId?: unknown;
  producerEpoch?: number;
  firstSequence?: number;
  records?: KafkajsEncoder[];
}

export type RecordBatchEncoder = (fields: RecordBatchFields) => Promise<KafkajsEncoder>;

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules */
/** kafkajs's own module: `RecordBatch` is the fallback and the reference in tests; `MAGIC_BYTE` is 2. */
export const kafkajsRecordBatchModule = require(RECORD_BATCH_MODULE) as {
  RecordBatch: RecordBatchEncoder;
  MAGIC_BYTE: number;
};
/* eslint-enable @typescript-eslint/no-require-imports */
export const kafkajsRecordBatch = kafkajsRecordBatchModule.RecordBatch;

const COMPRESSION_NONE = 0;
const TRANSACTIONAL_MASK = 16;
/** FirstOffset int64, Length int32, PartitionLeaderEpoch int32, Magic int8, CRC uint32: the CRC covers what follows. */
const BODY_OFFSET = 8 + 4 + 4 + 1 + 4;
/** Attributes int16, LastOffsetDelta int32, FirstTimestamp, MaxTimestamp, ProducerId int64, ProducerEpoch int16, FirstSequence int32, record count int32. */
const BODY_HEADER_SIZE = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;

/** An int64 the way kafkajs writes one: through its Long, from a number, a decimal string, a bigint or a Long. */
function writeInt64(buffer: Buffer, offset: number, value: unknown): number {
  const long = Long.fromValue(value);
  buffer.writeInt32BE(long.getHighBits(), offset);
  buffer.writeInt32BE(long.getLowBits(), offset + 4);
  return offset + 8;
}

/** Total bytes of the records, or -1 when one is not a kafkajs Encoder (kafkajs's function then decides). */
function recordsSize(records: readonly unknown[]): number {
  let size = 0;
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    if (!(record instanceof Encoder) || !Buffer.isBuffer(record.buf) || !(record.offset <= record.buf.length))
      return -1;
    size += record.offset;
  }
  return size;
}

/**
 * The size of the batch `writeRecordBatch` writes for these fields, or -1 when kafkajs's own function
 * must encode it (compressed, no records, or records that are not kafkajs Encoders).
 */
export function measureRecordBatch(fields: RecordBatchFields): number {
  const { compression = COMPRESSION_NONE, records = [] } = fields;
  if (compression !== COMPRESSION_NONE || !Array.isArray(records) || records.length === 0) return -1;
  const size = recordsSize(records);
  return size < 0 ? -1 : BODY_OFFSET + BODY_HEADER_SIZE + size;
}

/** Writes a batch that `measureRecordBatch` measured at `size` bytes into `buffer` at `start`. */
export function writeRecordBatch(fields: RecordBatchFields, buffer: Buffer, start: number, size: number): void {
  const {
    firstOffset = Long.fromInt(0),
    firstTimestamp = Date.now(),
    maxTimestamp = Date.now(),
    partitionLeaderEpoch = 0,
    lastOffsetDelta = 0,
    transactional = false,
    producerId = Long.fromValue(-1),
    producerEpoch = 0,
    firstSequence = 0,
    records = [],
  } = fields;
  const end = start + size;
  let offset = writeInt64(buffer, start, firstOffset);
  offset = buffer.writeInt32BE(end - offset - 4, offset); // the batch's length: everything after this field
  offset = buffer.writeInt32BE(partitionLeaderEpoch, offset);
  offset = buffer.writeInt8(kafkajsRecordBatchModule.MAGIC_BYTE, offset);
  const crcOffset = offset;
  offset = buffer.writeInt16BE(transactional ? TRANSACTIONAL_MASK : 0, offset + 4);
  offset = buffer.writeInt32BE(lastOffsetDelta, offset);
  offset = writeInt64(buffer, offset, firstTimestamp);
  offset = writeInt64(buffer, offset, maxTimestamp);
  offset = writeInt64(buffer, offset, producerId);
  offset = buffer.writeInt16BE(producerEpoch, offset);
  offset = buffer.writeInt32BE(firstSequence, offset);
  offset = buffer.writeInt32BE(records.length, offset);
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    offset += record.buf.copy(buffer, offset, 0, record.offset);
  }
  if (offset !== end)
    throw new Error(`kafkajs record batch encoder: wrote ${offset - start} bytes into a batch measured at ${size}`);
  buffer.writeUInt32BE(crc32c(buffer, crcOffset + 4, end), crcOffset);
}

/** One record batch (magic 2), uncompressed, written once into a buffer of exactly its size. */
export async function encodeRecordBatch(fields: RecordBatchFields): Promise<KafkajsEncoder> {
  const size = measureRecordBatch(fields);
  if (size < 0) return kafkajsRecordBatch(fields);
  const buffer = Buffer.allocUnsafe(size);
  writeRecordBatch(fields, buffer, 0, size);
  return exactEncoder(buffer);
}
