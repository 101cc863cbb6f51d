/**
 * A replacement for kafkajs 2.2.4's produce-side record encoder (`protocol/recordBatch/record/v0`).
 *
 * kafkajs encodes each record through a fresh `Encoder` (a zero-filled 512-byte buffer, grown by
 * copying) plus one more `Encoder` per header, builds a varint's bytes through an array and
 * `Buffer.from`, and sizes the timestamp delta through BigInt-backed `Long` objects: with the 11
 * CloudEvents headers of every Tributary record, most of the ~30% of the attribution service's CPU that
 * kafkajs's produce-side encoding took. This encoder measures the record first and writes it into one
 * buffer of exactly its size, producing the same bytes: a property spec compares it with kafkajs's own
 * function on random records, and `installKafkajsEncoders` (kafkajs-encoders.ts) compares the two once
 * more before it swaps them.
 *
 * Anything outside what Tributary sends (a key or header value that is neither a string nor a Buffer,
 * a timestamp delta beyond +-2^52 or not an integer, a non-numeric offset delta) goes to kafkajs's own
 * function, so its output or its error stays exactly kafkajs's.
 */

export const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder';

/** The slice of kafkajs's `Encoder` that its RecordBatch reads: the bytes are `buf[0, offset)`. */
export interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
}

export type RecordBytes = string | Buffer | null | undefined;
export type HeaderValue = string | Buffer | ReadonlyArray<string | Buffer>;

/** The argument of kafkajs's Record v0 function, as its produce request builds it. */
export interface RecordFields {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: RecordBytes;
  value?: RecordBytes;
  headers?: Readonly<Record<string, HeaderValue | undefined>>;
}

export type RecordEncoder = (fields: RecordFields) => KafkajsEncoder;

// Deep requires: kafkajs exports none of its protocol modules, and has no type declarations for them.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
export const Encoder = require(ENCODER_MODULE) as { prototype: KafkajsEncoder; new (): KafkajsEncoder };

/** kafkajs's own function: the fallback for inputs outside the fast path, and the reference in tests. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
export const kafkajsRecord = require(RECORD_MODULE) as RecordEncoder;

/** Above this magnitude a zigzagged timestamp delta no longer fits a double exactly. */
const VARLONG_FAST_MAGNITUDE_MAX = 2 ** 52;
/** Strings up to this many ASCII bytes are copied by a loop; a longer one by Buffer#write, whose call costs more. */
const ASCII_LOOP_LENGTH_MAX = 48;

/**
 * Byte lengths of the current record's header names and values, measured once and reused when writing,
 * and their count. Encoding is synchronous, so one scratch serves every call; the arrays grow to the
 * largest header count seen.
 */
const nameLengths: number[] = [];
const valueLengths: number[] = [];
let headerCount = 0;

/** Kafka's varint: zigzag of a 32-bit integer, written as kafkajs's `writeVarInt` does (int32 semantics). */
function sizeOfVarInt(value: number): number {
  let encoded = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (encoded >= 0x80) {
    bytes += 1;
    encoded >>>= 7;
  }
  return bytes;
}

function writeVarInt(buffer: Buffer, offset: number, value: number): number {
  let encoded = ((value << 1) ^ (value >> 31)) >>> 0;
  while (encoded >= 0x80) {
    buffer[offset++] = (encoded & 0x7f) | 0x80;
    encoded >>>= 7;
  }
  buffer[offset++] = encoded;
  return offset;
}

/** Zigzag of an integer of magnitude under 2^52: exact in a double (under 2^53). */
function zigzagLong(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function sizeOfUnsignedVarLong(encoded: number): number {
  let bytes = 1;
  while (encoded >= 0x80) {
    bytes += 1;
    encoded = Math.floor(encoded / 0x80);
  }
  return bytes;
}

function writeUnsignedVarLong(buffer: Buffer, offset: number, encoded: number): number {
  while (encoded >= 0x80) {
    buffer[offset++] = (encoded % 0x80) | 0x80;
    encoded = Math.floor(encoded / 0x80);
  }
  buffer[offset++] = encoded;
  return offset;
}

function isBytes(value: unknown): value is string | Buffer {
  return typeof value === 'string' || Buffer.isBuffer(value);
}

function byteLengthOf(value: string | Buffer): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

/** Writes a string or Buffer of known byte length (no length prefix). */
function writeBytes(buffer: Buffer, offset: number, value: string | Buffer, length: number): number {
  if (typeof value !== 'string') {
    value.copy(buffer, offset);
  } else if (length === value.length && length <= ASCII_LOOP_LENGTH_MAX) {
    // Equal lengths mean every character is ASCII (any other takes two or more UTF-8 bytes).
    for (let index = 0; index < length; index++) buffer[offset + index] = value.charCodeAt(index);
  } else {
    buffer.write(value, offset, length, 'utf8');
  }
  return offset + length;
}

/** A nullable key or value: varint length (-1 for null), then the bytes. */
function sizeOfNullableBytes(value: string | Buffer | null | undefined, length: number): number {
  return value == null ? 1 : sizeOfVarInt(length) + length;
}

function writeNullableBytes(
  buffer: Buffer,
  offset: number,
  value: string | Buffer | null | undefined,
  length: number,
): number {
  if (value == null) return writeVarInt(buffer, offset, -1);
  return writeBytes(buffer, writeVarInt(buffer, offset, length), value, length);
}

/**
 * Measures the headers as kafkajs flattens them (one header per array element, in Object.keys order),
 * filling the scratch lengths and count. Returns the encoded size with the count prefix, or -1 when a
 * value is not a string or Buffer (kafkajs's own function then decides what happens).
 */
function measureHeaders(headers: Readonly<Record<string, HeaderValue | undefined>>, names: readonly string[]): number {
  let size = 0;
  let count = 0;
  for (let nameIndex = 0; nameIndex < names.length; nameIndex++) {
    const name = names[nameIndex]!;
    const nameLength = Buffer.byteLength(name, 'utf8');
    const headerValue: unknown = headers[name];
    if (isBytes(headerValue)) {
      const valueLength = byteLengthOf(headerValue);
      nameLengths[count] = nameLength;
      valueLengths[count] = valueLength;
      size += sizeOfVarInt(nameLength) + nameLength + sizeOfVarInt(valueLength) + valueLength;
      count += 1;
    } else if (Array.isArray(headerValue)) {
      for (let index = 0; index < headerValue.length; index++) {
        // A hole in a sparse array is skipped by kafkajs's flatMap; `in` tells a hole from an undefined.
        if (!(index in headerValue)) return -1;
        const element: unknown = headerValue[index];
        if (!isBytes(element)) return -1;
        const valueLength = byteLengthOf(element);
        nameLengths[count] = nameLength;
        valueLengths[count] = valueLength;
        size += sizeOfVarInt(nameLength) + nameLength + sizeOfVarInt(valueLength) + valueLength;
        count += 1;
      }
    } else {
      return -1;
    }
  }
  headerCount = count;
  return size + sizeOfVarInt(count);
}

function writeHeaders(
  buffer: Buffer,
  offset: number,
  headers: Readonly<Record<string, HeaderValue | undefined>>,
  names: readonly string[],
): number {
  offset = writeVarInt(buffer, offset, headerCount);
  let header = 0;
  for (let nameIndex = 0; nameIndex < names.length; nameIndex++) {
    const name = names[nameIndex]!;
    const headerValue = headers[name]!;
    if (typeof headerValue === 'string' || Buffer.isBuffer(headerValue)) {
      offset = writeBytes(buffer, writeVarInt(buffer, offset, nameLengths[header]!), name, nameLengths[header]!);
      offset = writeBytes(
        buffer,
        writeVarInt(buffer, offset, valueLengths[header]!),
        headerValue,
        valueLengths[header]!,
      );
      header += 1;
    } else {
      const elements = headerValue as ReadonlyArray<string | Buffer>;
      for (let index = 0; index < elements.length; index++) {
        offset = writeBytes(buffer, writeVarInt(buffer, offset, nameLengths[header]!), name, nameLengths[header]!);
        offset = writeBytes(
          buffer,
          writeVarInt(buffer, offset, valueLengths[header]!),
          elements[index]!,
          valueLengths[header]!,
        );
        header += 1;
      }
    }
  }
  return offset;
}

/** An Encoder as kafkajs reads one (its bytes are `buf[0, offset)`), over a buffer holding exactly them. */
export function exactEncoder(buffer: Buffer): KafkajsEncoder {
  const encoder = Object.create(Encoder.prototype) as KafkajsEncoder;
  encoder.buf = buffer;
  encoder.offset = buffer.length;
  return encoder;
}

/**
 * Encodes one record (Kafka's record format v2, inside a record batch) into a single buffer of exactly
 * its size: length, attributes, timestamp delta, offset delta, key, value, headers.
 */
export function encodeRecord(fields: RecordFields): KafkajsEncoder {
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = fields;
  if (
    typeof offsetDelta !== 'number' ||
    !Number.isInteger(timestampDelta) ||
    Math.abs(timestampDelta) >= VARLONG_FAST_MAGNITUDE_MAX ||
    (key != null && !isBytes(key)) ||
    (value != null && !isBytes(value)) ||
    typeof headers !== 'object' ||
    headers === null
  ) {
    return kafkajsRecord(fields);
  }
  const names = Object.keys(headers);
  const headersSize = measureHeaders(headers, names);
  if (headersSize < 0) return kafkajsRecord(fields);
  const keyLength = key == null ? 0 : byteLengthOf(key);
  const valueLength = value == null ? 0 : byteLengthOf(value);
  const timestampZigzag = zigzagLong(timestampDelta);
  const bodySize =
    1 + // attributes
    sizeOfUnsignedVarLong(timestampZigzag) +
    sizeOfVarInt(offsetDelta) +
    sizeOfNullableBytes(key, keyLength) +
    sizeOfNullableBytes(value, valueLength) +
    headersSize;
  const size = sizeOfVarInt(bodySize) + bodySize;
  const buffer = Buffer.allocUnsafe(size);
  let offset = writeVarInt(buffer, 0, bodySize);
  buffer[offset++] = 0; // attributes: none used by a record in a batch
  offset = writeUnsignedVarLong(buffer, offset, timestampZigzag);
  offset = writeVarInt(buffer, offset, offsetDelta);
  offset = writeNullableBytes(buffer, offset, key, keyLength);
  offset = writeNullableBytes(buffer, offset, value, valueLength);
  offset = writeHeaders(buffer, offset, headers, names);
  if (offset !== size)
    throw new Error(`kafkajs record encoder: wrote ${offset} bytes into a record measured at ${size}`);
  return exactEncoder(buffer);
}
