// Proves the bigint long type carries every int64 exactly through Avro binary and refuses anything
// that would lose precision, by round-tripping fast-check integers across the whole int64 range.
import { Type } from 'avsc';
import fc from 'fast-check';
import { bigintLongType, INT64_MAX, INT64_MIN, parseAvroType } from './avro-type';

const amountRecord = parseAvroType({
  type: 'record',
  name: 'test.Amount',
  fields: [
    { name: 'amountMinor', type: 'long' },
    { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'maybeMinor', type: ['null', 'long'], default: null },
  ],
});

describe('given the bigint long type', () => {
  it('round-trips any int64 exactly as a bigint, far beyond 2^53', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (value) => {
        expect(bigintLongType.fromBuffer(bigintLongType.toBuffer(value))).toBe(value);
      }),
    );
  });

  it('decodes plain, logical (timestamp-millis) and nullable longs inside records as bigints', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
        fc.option(fc.bigInt({ min: INT64_MIN, max: INT64_MAX })),
        (amount, maybe) => {
          const decoded = amountRecord.fromBuffer(
            amountRecord.toBuffer({ amountMinor: amount, occurredAt: amount, maybeMinor: maybe }),
          );
          expect(decoded).toEqual({ amountMinor: amount, occurredAt: amount, maybeMinor: maybe });
        },
      ),
    );
  });

  it('accepts safe-integer numbers and reads them back as bigints', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        expect(bigintLongType.fromBuffer(bigintLongType.toBuffer(value))).toBe(BigInt(value));
      }),
    );
  });

  it('refuses numbers beyond 2^53, fractions and bigints outside int64', () => {
    expect(bigintLongType.isValid(2 ** 53)).toBe(false);
    expect(bigintLongType.isValid(1.5)).toBe(false);
    expect(bigintLongType.isValid(INT64_MAX + 1n)).toBe(false);
    expect(bigintLongType.isValid(INT64_MIN - 1n)).toBe(false);
    expect(() => bigintLongType.toBuffer(2 ** 60)).toThrow();
  });

  it('is exact at every boundary of its number, float and bigint paths, on both sides of zero', () => {
    const edges = [
      0n,
      1n,
      2n ** 30n,
      2n ** 31n,
      2n ** 48n,
      2n ** 49n,
      2n ** 52n,
      2n ** 53n,
      2n ** 56n,
      2n ** 62n,
      INT64_MAX,
    ];
    for (const edge of edges.flatMap((value) => [value - 1n, value, value + 1n])) {
      for (const value of [edge, -edge].filter((candidate) => candidate >= INT64_MIN && candidate <= INT64_MAX)) {
        expect(bigintLongType.toBuffer(value).equals(zigZagVarint(value))).toBe(true);
        expect(bigintLongType.fromBuffer(zigZagVarint(value))).toBe(value);
        if (Number.isSafeInteger(Number(value)) && BigInt(Number(value)) === value) {
          expect(bigintLongType.toBuffer(Number(value)).equals(zigZagVarint(value))).toBe(true);
        }
      }
    }
    expect(bigintLongType.fromBuffer(zigZagVarint(INT64_MIN))).toBe(INT64_MIN);
  });

  it('refuses a varint longer than 10 bytes or carrying bits past 64, and a truncated one', () => {
    expect(() => bigintLongType.fromBuffer(Buffer.from([...Array(10).fill(0xff), 0x01]))).toThrow();
    expect(() => bigintLongType.fromBuffer(Buffer.from([...Array(9).fill(0xff), 0x03]))).toThrow();
    expect(() => bigintLongType.fromBuffer(Buffer.from([0xff, 0xff]))).toThrow();
    expect(() => bigintLongType.fromBuffer(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow();
  });

  // avsc's own number writer doubles n in floating point, which is inexact past 2^52 (-(2^52 + 1) comes
  // out as 2^52): the reason the bigint type hands it only values below 2^52.
  it('reads what the plain avsc number long wrote, and the reverse, below 2^52', () => {
    const plainLong = Type.forSchema('long');
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }), (value) => {
        expect(bigintLongType.fromBuffer(plainLong.toBuffer(value))).toBe(BigInt(value));
        expect(plainLong.fromBuffer(bigintLongType.toBuffer(BigInt(value)))).toBe(value);
      }),
    );
  });

  it('writes the bytes the Avro spec prescribes (zig-zag varint), so any Avro reader gets the same value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (value) => {
        expect(bigintLongType.toBuffer(value).equals(zigZagVarint(value))).toBe(true);
      }),
    );
  });
});

/** Reference encoder straight from the Avro spec, in exact bigint arithmetic. */
function zigZagVarint(value: bigint): Buffer {
  let zigZag = value >= 0n ? value * 2n : -value * 2n - 1n;
  const bytes: number[] = [];
  do {
    const low = Number(zigZag & 0x7fn);
    zigZag >>= 7n;
    bytes.push(zigZag === 0n ? low : low | 0x80);
  } while (zigZag !== 0n);
  return Buffer.from(bytes);
}

describe('arrays and maps read by Tributary types', () => {
  const varint = (count: number) => parseAvroType('long').toBuffer(BigInt(count));
  const arrays = parseAvroType({
    type: 'record',
    name: 'Arrays',
    fields: [{ name: 'xs', type: { type: 'array', items: 'long' } }],
  });
  const maps = parseAvroType({
    type: 'record',
    name: 'Maps',
    fields: [{ name: 'm', type: { type: 'map', values: 'string' } }],
  });

  it('refuse a block that counts more items than bytes are left, instead of filling memory', () => {
    // Ten bytes claiming two billion items: avsc alone sized an array by the count and read on past the
    // buffer's end, and the process ran out of memory.
    for (const type of [arrays, maps]) {
      expect(() => type.fromBuffer(varint(2 ** 31 - 1))).toThrow(/truncated/);
      // A negative count is followed by the block's size in bytes.
      expect(() => type.fromBuffer(Buffer.concat([varint(-(2 ** 31 - 1)), varint(4)]))).toThrow(/truncated/);
    }
  });

  it('refuse it when skipping a field the reader no longer has, instead of looping', () => {
    const reader = parseAvroType({ type: 'record', name: 'Arrays', fields: [] });
    const resolver = reader.createResolver(arrays);
    expect(() => reader.fromBuffer(varint(2 ** 40), resolver)).toThrow(/truncated/);
  });

  it('still read what fits, block by block', () => {
    const value = { xs: [1n, -2n, 2n ** 62n] };
    expect(arrays.fromBuffer(arrays.toBuffer(value))).toEqual(value);
    expect(maps.fromBuffer(maps.toBuffer({ m: { a: 'x', b: '' } }))).toEqual({ m: { a: 'x', b: '' } });
    // Two blocks, the second with its size: [1n] then [2n, 3n].
    const blocks = Buffer.concat([varint(1), varint(1), varint(-2), varint(2), varint(2), varint(3), varint(0)]);
    expect(arrays.fromBuffer(blocks)).toEqual({ xs: [1n, 2n, 3n] });
  });

  it('let an array of items that take no bytes count past the bytes left', () => {
    const nulls = parseAvroType({ type: 'array', items: 'null' });
    expect((nulls.fromBuffer(Buffer.concat([varint(1_000), varint(0)])) as unknown[]).length).toBe(1_000);
  });
});
