/**
 * A replacement for kafkajs 2.2.4's record decoder (`protocol/recordBatch/record/v0/decoder`), which
 * every fetched record goes through, for every kafkajs consumer of the process. It returns the same
 * record object, field for field, with less garbage: kafkajs builds a 64-bit Long (a bigint wrapper)
 * for every byte of the timestamp delta's varint and parses the batch's first offset and timestamp from
 * strings again for every record, then builds the headers object by spreading it once per header.
 * Those were a fifth of a ledger rebuild's allocations (and garbage collection a fifth of its CPU).
 *
 * Here varints are read as numbers, the batch's first offset and timestamp are parsed once per batch,
 * headers are assigned into one object, and a header name equal to the last record's at its position
 * is reused rather than decoded again. Whatever falls outside what a double holds exactly (a
 * varlong over 7 bytes, a sum beyond 2^53, a first offset that is not a canonical integer) goes
 * through kafkajs's own Long arithmetic, so the output stays kafkajs's. kafkajs-record-decoder.spec.ts
 * compares the two on arbitrary records and batch contexts.
 */
import { inspect, isDeepStrictEqual } from 'node:util';
import { RecentTexts } from '@tributary/kafka-client';
import { assertPinnedVersion } from './kafkajs-encoders';
import { Long, type KafkajsLong } from './kafkajs-long';
import { kafkajsRecord } from './kafkajs-record-encoder';

export const RECORD_DECODER_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/decoder';
/** Binds the record decoder when loaded, so it must not be loaded before the swap. */
export const RECORD_BATCH_DECODER_MODULE = 'kafkajs/src/protocol/recordBatch/v0/decoder';

/** kafkajs's Decoder, as far as the record decoder uses it: the record's bytes and a read position. */
export interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readVarLong(): KafkajsLong;
}

/** The batch fields kafkajs's record batch decoder passes to each record (one object per batch). */
export interface RecordBatchContext {
  readonly firstOffset?: string;
  readonly firstTimestamp?: string;
  readonly magicByte?: number;
  readonly isControlBatch?: boolean;
  readonly timestampType?: number;
  readonly maxTimestamp?: string;
  readonly [field: string]: unknown;
}

export type DecodedHeaders = Record<string, unknown>;

export interface DecodedRecord {
  magicByte: number | undefined;
  attributes: number;
  timestamp: string | undefined;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: DecodedHeaders;
  isControlRecord: boolean;
  batchContext: RecordBatchContext;
}

export type RecordDecoder = (decoder: KafkajsDecoder, batchContext?: RecordBatchContext) => DecodedRecord;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
const { LOG_APPEND_TIME } = require('kafkajs/src/protocol/timestampTypes') as { LOG_APPEND_TIME: number };

const CONTINUATION = 0x80;
const PAYLOAD = 0x7f;
/** Seven varint bytes hold 49 bits: exact in a double. */
const VARLONG_BYTES_EXACT = 7;

/** A batch's first offset and timestamp as numbers, parsed for its first record (NaN: use Long). */
let lastContext: RecordBatchContext | null = null;
let firstOffsetNumber = Number.NaN;
let firstTimestampNumber = Number.NaN;

function exactNumber(value: string | undefined): number {
  if (typeof value !== 'string') return Number.NaN;
  const number = Number(value);
  // Only the canonical spelling of a safe integer: anything else is parsed as kafkajs parses it.
  return Number.isSafeInteger(number) && String(number) === value ? number : Number.NaN;
}

/** The record's bytes and position while it is decoded (decoding is synchronous). */
const EMPTY = Buffer.alloc(0);
let bytes: Buffer = EMPTY;
let at = 0;

/** kafkajs's varint: zigzag over the 7-bit groups, summed in 32-bit shifts exactly as its Decoder sums them. */
function readVarInt(): number {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = bytes[at++]!;
    result += (byte & PAYLOAD) << shift;
    shift += 7;
  } while (byte >= CONTINUATION);
  return (result >>> 1) ^ -(result & 1);
}

/** A varlong of at most 7 bytes as a number; NaN (position unchanged) for a longer one. */
function readShortVarLong(): number {
  const start = at;
  let result = 0;
  let scale = 1;
  for (let count = 0; count < VARLONG_BYTES_EXACT; count += 1) {
    const byte = bytes[at++]!;
    result += (byte & PAYLOAD) * scale;
    if (!(byte >= CONTINUATION)) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    scale *= 128;
  }
  at = start;
  return Number.NaN;
}

function readVarIntBytes(): Buffer | null {
  const length = readVarInt();
  if (length === -1) return null;
  const value = bytes.subarray(at, at + length);
  at += length;
  return value;
}

/**
 * Header names seen before, by position in the record: a producer writes the same names in the same
 * order on every record, so the name is usually a byte-for-byte match of the previous record's and is
 * reused (ascii-text.ts). Only short ASCII names are kept.
 */
const recentNames = new RecentTexts<number>(32, 64);

function readHeaderName(position: number): string | null {
  const length = readVarInt();
  if (length === -1) return null;
  const name = recentNames.decode(position, bytes, at, at + length);
  at += length;
  return name;
}

/**
 * The headers as kafkajs builds them: a repeated key collects its values in an array, and the value
 * already under a key is looked up as kafkajs looks it up (inherited properties included), every key
 * becoming an own property, `__proto__` too.
 */
function readHeaders(): DecodedHeaders {
  const count = readVarInt();
  const headers: DecodedHeaders = {};
  if (count === -1) return headers;
  if (count < 0) throw new RangeError('Invalid array length');
  for (let index = 0; index < count; index += 1) {
    const key = readHeaderName(index) as string;
    const value = readVarIntBytes();
    const existing = headers[key];
    const next =
      existing === undefined ? value : Array.isArray(existing) ? existing.concat([value]) : [existing, value];
    if (key === '__proto__')
      Object.defineProperty(headers, key, { value: next, writable: true, enumerable: true, configurable: true });
    else headers[key] = next;
  }
  return headers;
}

/** Decodes one record, as kafkajs 2.2.4's record decoder does, from the decoder's position. */
export const decodeRecord: RecordDecoder = (decoder, batchContext = {}) => {
  const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
  if (batchContext !== lastContext) {
    lastContext = batchContext;
    firstOffsetNumber = exactNumber(firstOffset);
    firstTimestampNumber = exactNumber(firstTimestamp);
  }
  bytes = decoder.buffer;
  at = decoder.offset;
  const attributes = bytes.readInt8(at);
  at += 1;
  let timestampDelta: number | KafkajsLong = readShortVarLong();
  if (Number.isNaN(timestampDelta)) {
    decoder.offset = at;
    timestampDelta = decoder.readVarLong();
    at = decoder.offset;
  }
  let timestamp: string | undefined;
  if (timestampType === LOG_APPEND_TIME && maxTimestamp) timestamp = maxTimestamp;
  else if (typeof timestampDelta === 'number' && Number.isSafeInteger(firstTimestampNumber + timestampDelta))
    timestamp = String(firstTimestampNumber + timestampDelta);
  else timestamp = Long.fromValue(firstTimestamp).add(timestampDelta).toString();
  const offsetDelta = readVarInt();
  const offset = Number.isSafeInteger(firstOffsetNumber + offsetDelta)
    ? String(firstOffsetNumber + offsetDelta)
    : Long.fromValue(firstOffset).add(offsetDelta).toString();
  const key = readVarIntBytes();
  const value = readVarIntBytes();
  const headers = readHeaders();
  decoder.offset = at;
  bytes = EMPTY;
  return {
    magicByte,
    attributes,
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: isControlBatch,
    batchContext,
  };
};

const INSTALLED = Symbol.for('tributary.kafkajsRecordDecoder');

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
const KafkajsDecoderClass = require('kafkajs/src/protocol/decoder') as new (
  buffer: Buffer,
) => KafkajsDecoder & { readVarInt(): number };

/** A decoder at the start of a record of every shape the fast path reads (repeated and empty headers, a negative delta). */
function sampleRecord(): KafkajsDecoder {
  const decoder = new KafkajsDecoderClass(
    kafkajsRecord({
      offsetDelta: 3,
      timestampDelta: -1_234,
      key: 'clé',
      value: Buffer.from([0, 255]),
      headers: { ce_id: 'é', multi: ['a', Buffer.alloc(0)], '7': 'seven' },
    }).buffer,
  );
  // Past the record's own length, where the batch decoder hands it over.
  decoder.readVarInt();
  return decoder;
}

/**
 * Swaps kafkajs's record decoder for this one through the require cache (under jest, the test file's
 * module registry), before kafkajs's record batch decoder loads and binds it, which is at a consumer's
 * first fetch. Throws, rather than leaving kafkajs's decoder silently in place, when kafkajs is not the
 * pinned version, when the record batch decoder was loaded already, or when the two decoders disagree on
 * a sample record. Calling it again is a no-op.
 */
export function installKafkajsRecordDecoder(): void {
  assertPinnedVersion();
  const decoderPath = require.resolve(RECORD_DECODER_MODULE);
  const installed = require.cache[decoderPath];
  if (installed !== undefined && (installed.exports as { [INSTALLED]?: boolean })[INSTALLED] === true) return;
  if (require.cache[require.resolve(RECORD_BATCH_DECODER_MODULE)] !== undefined) {
    throw new Error(
      `kafkajs record decoder: ${RECORD_BATCH_DECODER_MODULE} was loaded before the replacement was installed, so it holds ` +
        "kafkajs's own; call installKafkaWireFastPaths() (@tributary/kafka-wire) first thing in main, before any consumer fetches",
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
  const kafkajsDecoder = require(decoderPath) as RecordDecoder;
  const context = {
    firstOffset: '41',
    firstTimestamp: '1700000000000',
    magicByte: 2,
    timestampType: 0,
    maxTimestamp: '1700000000000',
  };
  const expected = kafkajsDecoder(sampleRecord(), context);
  const actual = decodeRecord(sampleRecord(), context);
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(
      `kafkajs record decoder: the replacement's record differs from kafkajs's on the sample record (${inspect(actual)} != ${inspect(expected)})`,
    );
  }
  const replacement: RecordDecoder = (decoder, batchContext) => decodeRecord(decoder, batchContext);
  Object.defineProperty(replacement, INSTALLED, { value: true });
  const decoderModule = require.cache[decoderPath];
  if (decoderModule === undefined)
    throw new Error(`kafkajs record decoder: ${RECORD_DECODER_MODULE} is not in the require cache after loading it`);
  decoderModule.exports = replacement;
}
