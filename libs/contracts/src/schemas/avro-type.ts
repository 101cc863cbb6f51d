// Every Avro type in Tributary is parsed here, so that every `long` decodes to a bigint. avsc's
// default long type decodes to a JS number and throws beyond 2^53; money needs the full int64 range
// exactly, so we plug in avsc's documented custom long type (`LongType.__with`).
import { Type, types } from 'avsc';
import type { JsonValue } from './schema-tree';

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
const INT64_BYTES = 8;

export function isInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/**
 * True for a value a `long` field accepts: a bigint in the int64 range, or a JS number that is a safe
 * integer (numbers beyond 2^53 have already lost precision, so accepting them would hide data loss).
 */
export function isLongValue(value: unknown): value is bigint | number {
  if (typeof value === 'bigint') return isInt64(value);
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function toBigInt(value: bigint | number): bigint {
  return typeof value === 'bigint' ? value : BigInt(value);
}

function longFromJson(json: unknown): bigint {
  // Defaults and JSON-encoded records come through here: accept what JSON can carry without loss.
  if (typeof json === 'bigint' || (typeof json === 'number' && Number.isSafeInteger(json))) return toBigInt(json);
  if (typeof json === 'string' && /^-?\d{1,19}$/.test(json)) {
    const value = BigInt(json);
    if (isInt64(value)) return value;
  }
  throw new Error(`not an int64: ${String(json).slice(0, 40)}`);
}

function longToJson(value: bigint | number): number | string {
  // Beyond 2^53 a JSON number would silently round, so large values are written as decimal strings.
  const exact = toBigInt(value);
  const asNumber = Number(exact);
  return Number.isSafeInteger(asNumber) ? asNumber : exact.toString();
}

/** The part of avsc's (untyped) Tap a long type reads from and writes to. */
interface AvroTap {
  buf: Buffer;
  pos: number;
  /** avsc's own varint writer, exact for |n| < 2^52 (it doubles n in floating point beyond 2^30). */
  writeLong(n: number): void;
  _invalidate(): void;
}

const FLOAT_EXACT_MAX = 2 ** 52;
const LONG_VARINT_BYTES_MAX = 10;

/**
 * Writes a long as Avro's zig-zag varint straight into the tap: small values with avsc's number
 * writer, the rest in bigint arithmetic. No buffer is allocated per value (avsc's generic custom-long
 * path allocates two and copies through them).
 */
function writeLong(tap: AvroTap, value: bigint | number): void {
  // Exact for a bigint too: Number() of a bigint within +-2^52 loses nothing.
  const asNumber = typeof value === 'number' ? value : Number(value);
  if (asNumber > -FLOAT_EXACT_MAX && asNumber < FLOAT_EXACT_MAX) {
    tap.writeLong(asNumber);
    return;
  }
  const exact = toBigInt(value);
  let zigZag = BigInt.asUintN(64, (exact << 1n) ^ (exact >> 63n));
  const buf = tap.buf;
  while (zigZag > 0x7fn) {
    buf[tap.pos++] = Number(zigZag & 0x7fn) | 0x80;
    zigZag >>= 7n;
  }
  buf[tap.pos++] = Number(zigZag);
}

/**
 * Reads a zig-zag varint long as a bigint: up to 4 bytes in int32 arithmetic, up to 7 in exact
 * floating point, beyond that in bigint. More than 10 bytes, or a 10th byte carrying bits past 64,
 * is not an int64: the tap is invalidated and avsc reports the record as invalid.
 */
function readLong(tap: AvroTap): bigint {
  const buf = tap.buf;
  let pos = tap.pos;
  let byte = buf[pos++]!;
  let low = byte & 0x7f;
  for (let shift = 7; byte & 0x80 && shift < 28; shift += 7) {
    byte = buf[pos++]!;
    low |= (byte & 0x7f) << shift;
  }
  if (!(byte & 0x80)) {
    tap.pos = pos;
    return BigInt((low >>> 1) ^ -(low & 1));
  }
  let float = low;
  let scale = 2 ** 28;
  for (; byte & 0x80 && scale < 2 ** 49; scale *= 128) {
    byte = buf[pos++]!;
    float += (byte & 0x7f) * scale;
  }
  if (!(byte & 0x80)) {
    tap.pos = pos;
    return BigInt(float % 2 === 1 ? -(float + 1) / 2 : float / 2);
  }
  let zigZag = BigInt(float);
  for (let shift = 49n; byte & 0x80; shift += 7n) {
    if (pos - tap.pos >= LONG_VARINT_BYTES_MAX) {
      tap._invalidate();
      return 0n;
    }
    byte = buf[pos++]!;
    zigZag |= BigInt(byte & 0x7f) << shift;
  }
  if (zigZag > 0xffff_ffff_ffff_ffffn) {
    tap._invalidate();
    return 0n;
  }
  tap.pos = pos;
  return (zigZag >> 1n) ^ -(zigZag & 1n);
}

const longMethods = {
  fromBuffer: (buffer: Buffer): bigint => buffer.readBigInt64LE(0),
  toBuffer: (value: bigint | number): Buffer => {
    const buffer = Buffer.alloc(INT64_BYTES);
    buffer.writeBigInt64LE(toBigInt(value), 0);
    return buffer;
  },
  fromJSON: longFromJson,
  toJSON: longToJson,
  isValid: isLongValue,
  compare: (left: bigint | number, right: bigint | number): number => {
    const difference = toBigInt(left) - toBigInt(right);
    return difference === 0n ? 0 : difference < 0n ? -1 : 1;
  },
};

type AbstractLongConstructor = new (noUnpack?: boolean) => types.LongType & Record<string, unknown>;

/**
 * avsc's documented custom long (`LongType.__with`) with its two hot methods replaced: reading and
 * writing go straight between the tap and a bigint instead of through an 8-byte buffer per value.
 * Everything else (validity, JSON, comparison, schema resolution, skipping) stays avsc's.
 */
function buildBigintLongType(): types.LongType {
  const AbstractLongType = Object.getPrototypeOf(types.LongType.__with(longMethods))
    .constructor as AbstractLongConstructor;
  class BigintLongType extends AbstractLongType {
    _read(tap: AvroTap): bigint {
      return readLong(tap);
    }

    _write(tap: AvroTap, value: unknown): void {
      if (!isLongValue(value)) throw new TypeError(`invalid "long": ${String(value).slice(0, 40)}`);
      writeLong(tap, value);
    }
  }
  const type = new BigintLongType(false);
  // The same method mapping LongType.__with applies.
  Object.assign(type, {
    _toBuffer: longMethods.toBuffer,
    _fromBuffer: longMethods.fromBuffer,
    _fromJSON: longMethods.fromJSON,
    _toJSON: longMethods.toJSON,
    _isValid: longMethods.isValid,
    compare: longMethods.compare,
  });
  return Object.freeze(type);
}

/** The avsc long type that reads every `long` as a bigint and writes bigints (or safe-integer numbers). */
export const bigintLongType: types.LongType = buildBigintLongType();

/**
 * avsc's int with a check that answers `false` for a value that is not a number: avsc's own check
 * (`val === (val | 0)`) throws a TypeError on a bigint, which would escape validation as a crash
 * instead of a `wrongType` issue naming the field.
 */
class CheckedIntType extends types.IntType {
  _check(value: unknown, flags: unknown, hook?: (value: unknown, type: Type) => void): boolean {
    const valid = typeof value === 'number' && value === (value | 0);
    if (!valid && hook) hook(value, this);
    return valid;
  }
}

/** The avsc int type every `int` field of a contract uses. */
export const checkedIntType: types.IntType = Object.freeze(new CheckedIntType());

/** The part of avsc's Tap an array or a map reads its blocks from. */
interface BlockTap extends AvroTap {
  readLong(): number;
  skipLong(): void;
  readString(): string;
  skipString(): void;
}

/**
 * Avro writes an array or a map as blocks, each a count and then that many items. avsc trusts the
 * count: it sizes the array by it and reads on past the end of the buffer (a read there yields garbage,
 * not an error, until avsc checks the buffer's end after the whole record). So a record of ten bytes
 * whose count says 2^31 made avsc fill a two-billion-slot array and ran the process out of memory, and
 * a skipped one looped as long: one hostile record would crash every consumer that read it. A block
 * here may not count more items than bytes are left, when no item can be written in zero bytes (map
 * entries never can: each has a key). Past that the record is invalid (avsc's "truncated buffer").
 */
function blockCount(tap: BlockTap, itemsMayBeEmpty: boolean): number {
  let count = tap.readLong();
  if (count < 0) {
    count = -count;
    tap.skipLong(); // The block's size in bytes, which a reader may use to skip it.
  }
  if (!itemsMayBeEmpty && count > tap.buf.length - tap.pos) {
    tap._invalidate();
    return 0;
  }
  return count;
}

/** Whether a value of the type can be encoded in zero bytes (null, and records or fixed of nothing). */
function encodesToNothing(type: Type): boolean {
  if (type.typeName === 'null') return true;
  if (type instanceof types.RecordType) return type.fields.every((field) => encodesToNothing(field.type));
  if (type instanceof types.FixedType) return type.size === 0;
  return false;
}

/** encodesToNothing per items type, worked out once (avsc's types are frozen: nothing is kept on them). */
const itemsMayBeEmpty = new WeakMap<Type, boolean>();
function mayBeEmpty(type: Type): boolean {
  let known = itemsMayBeEmpty.get(type);
  if (known === undefined) itemsMayBeEmpty.set(type, (known = encodesToNothing(type)));
  return known;
}

class BoundedArrayType extends types.ArrayType {
  _read(tap: BlockTap): unknown[] {
    const items = this.itemsType as unknown as { _read(tap: BlockTap): unknown };
    const empty = mayBeEmpty(this.itemsType);
    const values: unknown[] = [];
    for (let count = blockCount(tap, empty); count > 0; count = blockCount(tap, empty)) {
      while (count-- > 0) values.push(items._read(tap));
    }
    return values;
  }

  _skip(tap: BlockTap): void {
    const items = this.itemsType as unknown as { _skip(tap: BlockTap): void };
    const empty = mayBeEmpty(this.itemsType);
    for (let count = blockCount(tap, empty); count > 0; count = blockCount(tap, empty)) {
      while (count-- > 0) items._skip(tap);
    }
  }
}

class BoundedMapType extends types.MapType {
  _read(tap: BlockTap): Record<string, unknown> {
    const values = this.valuesType as { _read(tap: BlockTap): unknown };
    const entries: Record<string, unknown> = {};
    for (let count = blockCount(tap, false); count > 0; count = blockCount(tap, false)) {
      while (count-- > 0) entries[tap.readString()] = values._read(tap);
    }
    return entries;
  }

  _skip(tap: BlockTap): void {
    const values = this.valuesType as { _skip(tap: BlockTap): void };
    for (let count = blockCount(tap, false); count > 0; count = blockCount(tap, false)) {
      while (count-- > 0) {
        tap.skipString();
        values._skip(tap);
      }
    }
  }
}

/**
 * Parses an assembled schema with Tributary's options: bigint longs, plain data records (no methods
 * that could clash with field names), and unions that must stay unwrapped so the generated types
 * (`T | null`) describe the decoded values exactly.
 */
export function parseAvroType(schema: JsonValue): Type {
  return Type.forSchema(schema as never, {
    registry: { long: bigintLongType, int: checkedIntType },
    // The registry only catches the bare names; the object form (used to carry a logicalType such as
    // timestamp-millis) would otherwise build avsc's number-based long and its unchecked int.
    typeHook: (node, opts) => {
      if (isObjectForm(node, 'long')) return bigintLongType;
      if (isObjectForm(node, 'int')) return checkedIntType;
      // Every array and map reads its blocks bounded by the bytes left (blockCount).
      if (isObjectForm(node, 'array')) return new BoundedArrayType(node, opts);
      if (isObjectForm(node, 'map')) return new BoundedMapType(node, opts);
      return undefined;
    },
    omitRecordMethods: true,
    wrapUnions: 'never',
  });
}

function isObjectForm(node: unknown, primitive: 'long' | 'int' | 'array' | 'map'): boolean {
  return typeof node === 'object' && node !== null && (node as { type?: unknown }).type === primitive;
}

/** SHA-256 of the Parsing Canonical Form, as lowercase hex: what a schema registry would compare. */
export function fingerprintSha256(type: Type): string {
  return type.fingerprint('sha256').toString('hex');
}
