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

/** The avsc long type that reads every `long` as a bigint and writes bigints (or safe-integer numbers). */
export const bigintLongType: types.LongType = types.LongType.__with({
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
});

/**
 * Parses an assembled schema with Tributary's options: bigint longs, plain data records (no methods
 * that could clash with field names), and unions that must stay unwrapped so the generated types
 * (`T | null`) describe the decoded values exactly.
 */
export function parseAvroType(schema: JsonValue): Type {
  return Type.forSchema(schema as never, {
    registry: { long: bigintLongType },
    // The registry only catches the bare name 'long'; the object form (used to carry a logicalType
    // such as timestamp-millis) would otherwise build avsc's number-based long.
    typeHook: (node) => (isObjectFormLong(node) ? bigintLongType : undefined),
    omitRecordMethods: true,
    wrapUnions: 'never',
  });
}

function isObjectFormLong(node: unknown): boolean {
  return typeof node === 'object' && node !== null && (node as { type?: unknown }).type === 'long';
}

/** SHA-256 of the Parsing Canonical Form, as lowercase hex: what a schema registry would compare. */
export function fingerprintSha256(type: Type): string {
  return type.fingerprint('sha256').toString('hex');
}
