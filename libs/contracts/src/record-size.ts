/**
 * How big a record is where Kafka counts it: the one size rule every writer of this repository applies
 * before it produces (the attribution service for a decision, the gateway and the producer client for an
 * event), so a record the broker would refuse with MESSAGE_TOO_LARGE is refused (or dead-lettered) here
 * first, with its size and the limit named, instead of failing a whole send again and again.
 *
 * A broker compares a topic's `max.message.bytes` with the size of a whole record batch (magic v2): the
 * batch header of 61 bytes (offset and length included) plus each record, framed as
 *   length (varint) | attributes (1) | timestampDelta (varlong) | offsetDelta (varint) |
 *   keyLength (varint) | key | valueLength (varint) | value | headerCount (varint) |
 *   per header: keyLength (varint) | key | valueLength (varint) | value
 * where every varint is zigzag encoded. A record that alone in its batch passes the rule passes the
 * broker: the two deltas are counted at their widest (10 and 5 bytes), though one record alone has both 0.
 * Pure: no Kafka client, no I/O.
 */

/** A record's parts as the writers hold them (OutputRecord, toRecord's output, a kafkajs Message). */
export interface RecordParts {
  readonly key: string | Buffer | null | undefined;
  readonly value: Buffer | string | null | undefined;
  readonly headers?: Readonly<Record<string, HeaderValue | readonly HeaderValue[] | undefined>> | undefined;
}

type HeaderValue = string | Buffer;

/** Kafka's RecordBatch header, magic v2: baseOffset and batchLength (12) plus the 49 bytes after them. */
export const RECORD_BATCH_OVERHEAD_BYTES = 61;
/** The widest zigzag varlong (timestampDelta) and varint (offsetDelta): the margin a record carries for its place in a batch. */
const TIMESTAMP_DELTA_BYTES_MAX = 10;
const OFFSET_DELTA_BYTES_MAX = 5;
const ATTRIBUTES_BYTES = 1;

/** Bytes of a zigzag varint of a non-negative length n (zigzag(n) = 2n), or of -1 (null) when n < 0. */
function lengthVarintBytes(n: number): number {
  let zigzag = n < 0 ? 1 : n * 2;
  let bytes = 1;
  while (zigzag >= 0x80) {
    zigzag = Math.floor(zigzag / 0x80);
    bytes += 1;
  }
  return bytes;
}

function byteLength(part: string | Buffer): number {
  return typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.length;
}

/** A length-prefixed field: its varint and its bytes (null: the varint of -1 alone). */
function fieldBytes(part: string | Buffer | null | undefined): number {
  if (part === null || part === undefined) return lengthVarintBytes(-1);
  const length = byteLength(part);
  return lengthVarintBytes(length) + length;
}

/** One record's bytes inside a batch, its length prefix included, with both deltas at their widest. */
export function recordBytes(record: RecordParts): number {
  let headerCount = 0;
  let headers = 0;
  const all = record.headers;
  // Runs once per record a writer sends (a decision, a gateway event): a plain loop, no entry arrays.
  for (const name in all) {
    if (!Object.prototype.hasOwnProperty.call(all, name)) continue;
    const value = all[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      // kafkajs writes a header given as an array once per element, under the same name.
      for (const one of value as readonly HeaderValue[]) {
        headerCount += 1;
        headers += fieldBytes(name) + fieldBytes(one);
      }
    } else {
      headerCount += 1;
      headers += fieldBytes(name) + fieldBytes(value as HeaderValue);
    }
  }
  const body =
    ATTRIBUTES_BYTES +
    TIMESTAMP_DELTA_BYTES_MAX +
    OFFSET_DELTA_BYTES_MAX +
    fieldBytes(record.key) +
    fieldBytes(record.value) +
    lengthVarintBytes(headerCount) +
    headers;
  return lengthVarintBytes(body) + body;
}

/** The size Kafka compares with max.message.bytes for a batch holding these records. */
export function recordBatchBytes(records: readonly RecordParts[]): number {
  let bytes = RECORD_BATCH_OVERHEAD_BYTES;
  for (const record of records) bytes += recordBytes(record);
  return bytes;
}

/** The answer of the size rule: the record's size as Kafka counts it, the limit, and whether it fits. */
export interface RecordFit {
  readonly bytes: number;
  readonly limitBytes: number;
  readonly fits: boolean;
}

/**
 * The size rule: a record fits a topic when a batch holding it alone is at most the topic's
 * max.message.bytes. Every batch a writer sends holds either this one record or records that fit
 * together within the same limit, so a record that fits is one the broker accepts.
 */
export function recordFit(record: RecordParts, limitBytes: number): RecordFit {
  const bytes = RECORD_BATCH_OVERHEAD_BYTES + recordBytes(record);
  return { bytes, limitBytes, fits: bytes <= limitBytes };
}
