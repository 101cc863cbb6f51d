// Proves that the replacement record decoder returns exactly what kafkajs 2.2.4's returns, by decoding
// records kafkajs encoded with both decoders (fast-check), over batch contexts in and beyond what a
// double holds, headers named like Object.prototype's properties included; and that installing swaps it
// in for every fetch, or refuses loudly where the swap would not apply.
import { inspect, isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  decodeRecord,
  type KafkajsDecoder,
  type RecordBatchContext,
  type RecordDecoder,
} from './kafkajs-record-decoder';

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules, and the install specs reload modules after jest.resetModules() */
const Decoder = require('kafkajs/src/protocol/decoder') as new (
  buffer: Buffer,
) => KafkajsDecoder & { readVarInt(): number };
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (fields: object) => { buffer: Buffer };
const kafkajsDecodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as RecordDecoder;
const RECORD_BATCH_DECODER_MODULE = 'kafkajs/src/protocol/recordBatch/v0/decoder';

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ minLength: 64, maxLength: 300 }),
);
const bytes = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array));
const keyOrValue = fc.oneof(fc.constant(null), text, bytes);
/** Names an object already answers for (inherited), integer-like names (ordered first) and plain ones. */
const headerName = fc.oneof(
  text,
  fc.nat({ max: 20 }).map(String),
  fc.constantFrom('__proto__', 'toString', 'constructor', 'hasOwnProperty', 'null', 'ce_id'),
);
const headerValue = fc.oneof(text, bytes, fc.array(fc.oneof(text, bytes), { minLength: 1, maxLength: 4 }));
const headers = fc.array(fc.tuple(headerName, headerValue), { maxLength: 12 }).map((entries) => {
  const object: Record<string, unknown> = {};
  for (const [name, value] of entries)
    Object.defineProperty(object, name, { value, enumerable: true, configurable: true, writable: true });
  return object;
});
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
/** Deltas of one to seven varint bytes (the number path) and longer ones (kafkajs's Long path). */
const timestampDelta = fc.oneof(
  fc.integer({ min: -100_000, max: 100_000 }),
  fc.integer({ min: -(2 ** 47), max: 2 ** 47 }),
  fc.constantFrom(2 ** 48 - 1, -(2 ** 48), 2 ** 48, -(2 ** 48) - 1, 2 ** 52, -(2 ** 52), 2 ** 60, -(2 ** 62)),
);
const record = fc.record({
  offsetDelta: fc.oneof(fc.nat({ max: 10_000 }), int32),
  timestampDelta,
  key: keyOrValue,
  value: keyOrValue,
  headers,
});

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
/** Canonical integers near the bound of 2^53 and beyond it, spellings only BigInt reads, and ones only Number reads. */
const int64Text = fc.oneof(
  fc.nat({ max: 10_000_000 }).map(String),
  fc.constantFrom(
    '-1',
    '0',
    String(2 ** 53 - 1),
    String(2 ** 53),
    String(-(2 ** 53) + 1),
    String(2 ** 53 - 3),
    '9223372036854775807',
    '007',
    '+5',
    ' 12',
    '1e3',
    '1.5',
    '0x10',
    '',
  ),
  int64,
);
const batchContext: fc.Arbitrary<RecordBatchContext> = fc.record(
  {
    firstOffset: int64Text,
    firstTimestamp: int64Text,
    magicByte: fc.constant(2),
    isControlBatch: fc.boolean(),
    timestampType: fc.constantFrom(0, 1),
    maxTimestamp: fc.oneof(int64Text, fc.constant('')),
  },
  { requiredKeys: ['firstOffset', 'firstTimestamp', 'magicByte', 'timestampType', 'maxTimestamp'] },
);

/** A decoder past the record's length varint, as kafkajs's batch decoder hands a record over. */
function decoderAt(encoded: Buffer): KafkajsDecoder {
  const decoder = new Decoder(encoded);
  decoder.readVarInt();
  return decoder;
}

/** The record and where the decoder stopped, or the error's class and message. */
function outcome(decode: RecordDecoder, encoded: Buffer, context: RecordBatchContext): unknown {
  const decoder = decoderAt(encoded);
  try {
    return { record: decode(decoder, context), end: decoder.offset };
  } catch (error) {
    return { error: (error as Error).constructor.name, message: (error as Error).message };
  }
}

describe('a record decoded by the replacement', () => {
  it('is the record kafkajs decodes, field for field, in any batch context', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 4 }),
        fc.array(batchContext, { minLength: 1, maxLength: 2 }),
        (records, contexts) => {
          // Records of one batch share its context object, and batches alternate: the per-batch parse is reused and renewed.
          records.forEach((fields, index) => {
            const encoded = kafkajsRecord(fields).buffer;
            const context = contexts[index % contexts.length]!;
            const ours = outcome(decodeRecord, encoded, context);
            const theirs = outcome(kafkajsDecodeRecord, encoded, context);
            if (!isDeepStrictEqual(ours, theirs))
              throw new Error(`differs:\n${inspect(ours, { depth: 5 })}\n${inspect(theirs, { depth: 5 })}`);
          });
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('decodes a header name as kafkajs does even where its bytes equal the char codes of a name seen before', () => {
    const context = { firstOffset: '0', firstTimestamp: '0', magicByte: 2, timestampType: 0, maxTimestamp: '0' };
    // 'é' is C3 A9 in UTF-8; a lone E9 byte is not UTF-8 and decodes to U+FFFD, although 0xE9 is 'é''s char code.
    const named = (name: string) =>
      kafkajsRecord({ offsetDelta: 0, timestampDelta: 0, key: null, value: null, headers: { [name]: 'v' } }).buffer;
    const loneByte = Buffer.from(named('X'));
    loneByte[loneByte.indexOf('X')] = 0xe9;
    for (const encoded of [named('é'), loneByte, named('ce_id'), named('ce_ix')]) {
      const ours = outcome(decodeRecord, encoded, context);
      const theirs = outcome(kafkajsDecodeRecord, encoded, context);
      expect(isDeepStrictEqual(ours, theirs)).toBe(true);
    }
    expect(Object.keys(decodeRecord(decoderAt(loneByte), context).headers)).toEqual(['\ufffd']);
  });

  it('keeps repeated headers in order, as arrays, and a header named __proto__ as an own property', () => {
    const encoded = kafkajsRecord({
      offsetDelta: 1,
      timestampDelta: 5,
      key: null,
      value: 'v',
      headers: { multi: ['a', 'b'] },
    }).buffer;
    // A literal's __proto__ would set the prototype; a header of that name is an own property, defined.
    const withProto = { multi: ['a', 'b'] } as Record<string, unknown>;
    Object.defineProperty(withProto, '__proto__', { value: 'p', enumerable: true });
    const encodedWithProto = kafkajsRecord({
      offsetDelta: 1,
      timestampDelta: 5,
      key: null,
      value: 'v',
      headers: withProto,
    }).buffer;
    const context = { firstOffset: '10', firstTimestamp: '1000', magicByte: 2, timestampType: 0, maxTimestamp: '2000' };
    const plain = decodeRecord(decoderAt(encoded), context);
    expect(plain.offset).toBe('11');
    expect(plain.timestamp).toBe('1005');
    expect((plain.headers.multi as Buffer[]).map(String)).toEqual(['a', 'b']);
    const proto = decodeRecord(decoderAt(encodedWithProto), context);
    expect(Object.prototype.hasOwnProperty.call(proto.headers, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(proto.headers)).toBe(Object.prototype);
  });
});

describe('installKafkajsRecordDecoder', () => {
  type Install = typeof import('./kafkajs-record-decoder');
  const isInstalled = (): boolean =>
    (require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as { [key: symbol]: unknown })[
      Symbol.for('tributary.kafkajsRecordDecoder')
    ] === true;
  /** A whole record batch as the broker sends it, decoded by kafkajs's record batch decoder. */
  const decodeBatch = async (): Promise<unknown> => {
    const { RecordBatch: encodeBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
      RecordBatch: (fields: object) => Promise<{ buffer: Buffer }>;
    };
    const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (fields: object) => unknown;
    const records = [0, 1, 2].map((offsetDelta) =>
      encodeRecord({
        offsetDelta,
        timestampDelta: offsetDelta * 7,
        key: `k${offsetDelta}`,
        value: 'v',
        headers: { ce_id: `e${offsetDelta}`, multi: ['x', 'y'] },
      }),
    );
    const batch = await encodeBatch({
      compression: 0,
      records,
      firstOffset: require('kafkajs/src/utils/long').fromValue(5),
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_014,
      lastOffsetDelta: 2,
    });
    const BatchDecoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
    const decodeRecordBatch = require(RECORD_BATCH_DECODER_MODULE) as (
      decoder: unknown,
    ) => Promise<{ records: unknown[] }>;
    return (await decodeRecordBatch(new BatchDecoder(batch.buffer))).records;
  };

  beforeEach(() => jest.resetModules());

  it('makes the record batch decoder decode with the replacement, to the same records, and is idempotent', async () => {
    const withKafkajsDecoder = await decodeBatch();
    expect(isInstalled()).toBe(false);
    jest.resetModules();
    const fresh = require('./kafkajs-record-decoder') as Install;
    fresh.installKafkajsRecordDecoder();
    fresh.installKafkajsRecordDecoder();
    expect(isInstalled()).toBe(true);
    const withReplacement = await decodeBatch();
    expect(isDeepStrictEqual(withReplacement, withKafkajsDecoder)).toBe(true);
    expect((withReplacement as Array<{ offset: string }>).map((decoded) => decoded.offset)).toEqual(['5', '6', '7']);
  });

  it("refuses once the record batch decoder was loaded with kafkajs's record decoder bound", () => {
    require(RECORD_BATCH_DECODER_MODULE);
    const fresh = require('./kafkajs-record-decoder') as Install;
    expect(() => fresh.installKafkajsRecordDecoder()).toThrow(
      /recordBatch\/v0\/decoder was loaded before the replacement was installed/,
    );
  });

  it('refuses a kafkajs version other than the pinned one', () => {
    (require('kafkajs/package.json') as { version: string }).version = '2.2.5';
    const fresh = require('./kafkajs-record-decoder') as Install;
    expect(() => fresh.installKafkajsRecordDecoder()).toThrow(/kafkajs 2\.2\.5 is installed/);
  });
});
