// Proves the COPY BINARY encoding is the wire format PostgreSQL reads (header, per-field lengths, NULL as
// -1, big-endian integers, raw UTF-8 and bytes, trailer) by decoding known rows byte by byte.
import { encodeBinary, type CopyColumn } from './copy-rows';

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

  it('grows past its first buffer and refuses a row of the wrong width or a value of the wrong kind', () => {
    const big = 'x'.repeat(400_000);
    expect(encodeBinary([{ name: 'id', type: 'text' }], [[big], [big], [big]]).length).toBe(19 + 3 * (2 + 4 + 400_000) + 2);
    expect(() => encodeBinary(columns, [['a', 1]])).toThrow('a row has 2 values for 5 columns');
    expect(() => encodeBinary([{ name: 'hash', type: 'bytea' }], [['not bytes']])).toThrow('hash must be a Buffer');
  });
});
