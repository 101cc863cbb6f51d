// Proves the COPY BINARY encoding is the wire format PostgreSQL reads (header, per-field lengths, NULL as
// -1, big-endian integers, raw UTF-8 and bytes, trailer) by decoding known rows byte by byte.
import fc from 'fast-check';
import { CopyEncoder, encodeBinary, type CopyColumn } from './copy-rows';

const columns: CopyColumn[] = [
  { name: 'id', type: 'text' },
  { name: 'partition', type: 'int4' },
  { name: 'posting', type: 'int2' },
  { name: 'amount', type: 'int8' },
  { name: 'hash', type: 'bytea' },
];

describe('encodeBinary', () => {
  it('writes the signature, each field with its length, NULL as -1 and the trailer', () => {
    const encoded = encodeBinary(columns, [
      ['a\tb\né', 3, 1, -5n, Buffer.from([0, 255])],
      [null, 0, 0, 7, null],
    ]);
    expect(encoded.subarray(0, 11).equals(Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'))).toBe(true);
    expect(encoded.readInt32BE(11)).toBe(0);
    expect(encoded.readInt32BE(15)).toBe(0);
    let at = 19;
    const field = () => {
      const length = encoded.readInt32BE(at);
      at += 4;
      if (length < 0) return null;
      const bytes = encoded.subarray(at, at + length);
      at += length;
      return bytes;
    };
    expect(encoded.readInt16BE(at)).toBe(5);
    at += 2;
    expect(field()!.toString('utf8')).toBe('a\tb\né');
    expect(field()!.readInt32BE(0)).toBe(3);
    expect(field()!.readInt16BE(0)).toBe(1);
    expect(field()!.readBigInt64BE(0)).toBe(-5n);
    expect([...field()!]).toEqual([0, 255]);
    expect(encoded.readInt16BE(at)).toBe(5);
    at += 2;
    expect(field()).toBeNull();
    expect(field()!.readInt32BE(0)).toBe(0);
    expect(field()!.readInt16BE(0)).toBe(0);
    expect(field()!.readBigInt64BE(0)).toBe(7n);
    expect(field()).toBeNull();
    expect(encoded.readInt16BE(at)).toBe(-1);
    expect(encoded.length).toBe(at + 2);
  });

  it('writes any int8 bigint as PostgreSQL reads it, in and beyond the range a double holds exactly', () => {
    const edges = [
      0n,
      -1n,
      2n ** 53n - 1n,
      2n ** 53n,
      -(2n ** 53n) + 1n,
      -(2n ** 53n),
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 32n,
      -(2n ** 32n) - 1n,
    ];
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(...edges)),
        (value) => {
          const encoded = encodeBinary([{ name: 'amount', type: 'int8' }], [[value]]);
          expect(encoded.readInt32BE(21)).toBe(8);
          expect(encoded.readBigInt64BE(25)).toBe(value);
        },
      ),
    );
  });

  it('grows past its first buffer and refuses a row of the wrong width or a value of the wrong kind', () => {
    const big = 'x'.repeat(400_000);
    expect(encodeBinary([{ name: 'id', type: 'text' }], [[big], [big], [big]]).length).toBe(
      19 + 3 * (2 + 4 + 400_000) + 2,
    );
    expect(() => encodeBinary(columns, [['a', 1]])).toThrow('a row has 2 values for 5 columns');
    expect(() => encodeBinary([{ name: 'hash', type: 'bytea' }], [['not bytes']])).toThrow('hash must be a Buffer');
  });
});

describe('CopyEncoder', () => {
  const entryColumns: CopyColumn[] = [
    { name: 'topic', type: 'text' },
    { name: 'seq', type: 'int8' },
    { name: 'account', type: 'text' },
    { name: 'hash', type: 'bytea' },
  ];
  const topic = Buffer.from('tributary.attributions');
  const hash = Buffer.from([0, 1, 127, 128, 255]);
  const longText = `contributor:${'é'.repeat(40)}${'x'.repeat(60)}`;

  it('writes field by field exactly what encodeBinary writes for the same rows', () => {
    const rows = [
      ['tributary.attributions', 2n ** 53n - 1n, 'contributor:ana', hash],
      ['tributary.attributions', -(2n ** 40n) - 3n, 'contributor:é€', hash],
      ['tributary.attributions', 0n, longText, hash],
    ] as const;
    const encoder = new CopyEncoder(entryColumns);
    encoder
      .row()
      .utf8(topic)
      .int8(2 ** 53 - 1)
      .text('contributor:ana')
      .byteaLatin1(hash.toString('latin1'));
    encoder
      .row()
      .text('tributary.attributions')
      .int8(-(2 ** 40) - 3)
      .text('contributor:é€')
      .bytea(hash);
    encoder.row().utf8(topic).int8(0n).text(longText).bytea(hash);
    const encoded = Buffer.from(encoder.finish());
    encoder.release();
    expect(
      encoded.equals(
        encodeBinary(
          entryColumns,
          rows.map((row) => [...row]),
        ),
      ),
    ).toBe(true);
    // The buffer handed back serves the next encoder, which starts clean.
    const next = new CopyEncoder(entryColumns);
    next
      .row()
      .utf8(topic)
      .int8(2 ** 53 - 1)
      .text('contributor:ana')
      .bytea(hash);
    expect(Buffer.from(next.finish()).equals(encodeBinary(entryColumns, [[...rows[0]]]))).toBe(true);
    next.release();
  });

  it('refuses a value of another type than its column, a short or long row, and an unsafe integer', () => {
    const encoder = new CopyEncoder(entryColumns);
    expect(() => encoder.row().int8(1)).toThrow('topic is text, not int8');
    const short = new CopyEncoder(entryColumns);
    short.row().utf8(topic).int8(1);
    expect(() => short.row()).toThrow('a row has 2 values for 4 columns');
    expect(() => short.finish()).toThrow('a row has 2 values for 4 columns');
    const long = new CopyEncoder([{ name: 'id', type: 'text' }]);
    expect(() => long.row().text('a').text('b')).toThrow('a row has more than 1 values');
    const unsafe = new CopyEncoder(entryColumns);
    expect(() =>
      unsafe
        .row()
        .utf8(topic)
        .int8(2 ** 53),
    ).toThrow('seq = 9007199254740992 is not a safe integer');
    [encoder, short, long, unsafe].forEach((each) => each.release());
  });
});
