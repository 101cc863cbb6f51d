// Proves that the replacement record encoder writes exactly kafkajs 2.2.4's bytes, by comparing it with
// kafkajs's own Record v0 function on random records (fast-check), in a record batch, and through a whole
// produce request after installing it; and that installing refuses loudly where the swap would not apply.
import fc from 'fast-check';
import { encodeRecord, installRecordEncoder, kafkajsRecord, type KafkajsEncoder, type RecordFields } from './kafkajs-record-encoder';

/* eslint-disable @typescript-eslint/no-require-imports */
const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0';
const PRODUCE_REQUEST_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request';
type RecordBatchFn = (options: object) => Promise<KafkajsEncoder>;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: RecordBatchFn };
const { Types: CompressionTypes } = require('kafkajs/src/protocol/message/compression') as { Types: { None: number; GZIP: number } };
const Long = require('kafkajs/src/utils/long') as { fromValue: (value: number) => unknown };

/** Strings of UTF-16 code units, lone surrogates included (they encode as U+FFFD, three bytes). */
const codeUnitString = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((units) => String.fromCharCode(...units));
const text = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  codeUnitString,
  // Long enough to leave the short-ASCII loop and need a two-byte length varint.
  fc.string({ minLength: 49, maxLength: 300 }),
);
const bytes = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array));
const keyOrValue = fc.oneof(fc.constant(null), fc.constant(undefined), text, bytes, fc.uint8Array({ minLength: 1_000, maxLength: 20_000 }).map((array) => Buffer.from(array)));
const headerValue = fc.oneof(text, bytes, fc.array(fc.oneof(text, bytes), { maxLength: 4 }));
/** Names like '7' put integer-like keys first in Object.keys, which both encoders must follow. */
const headerName = fc.oneof(text, fc.nat({ max: 20 }).map(String));
const headers = fc.oneof(fc.constant(undefined), fc.dictionary(headerName, headerValue, { maxKeys: 14 }));
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const offsetDelta = fc.oneof(fc.constant(undefined), fc.nat({ max: 1_000 }), int32, fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }));
const fastTimestampDelta = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: -100_000, max: 100_000 }),
  fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }),
  fc.constantFrom(2 ** 52 - 1, -(2 ** 52) + 1, 0, -0),
);
// At and beyond the fast path's bound of 2^52: kafkajs's own function encodes these.
const timestampDelta = fc.oneof(fastTimestampDelta, fc.constantFrom(2 ** 52, -(2 ** 52), 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 60, -(2 ** 62)));
const recordFields: fc.Arbitrary<RecordFields> = fc.record(
  { offsetDelta, timestampDelta, key: keyOrValue, value: keyOrValue, headers },
  { requiredKeys: [] },
);
const fastPathRecordFields: fc.Arbitrary<RecordFields> = fc.record(
  { offsetDelta, timestampDelta: fastTimestampDelta, key: keyOrValue, value: keyOrValue, headers },
  { requiredKeys: [] },
);

function bytesOf(encoder: KafkajsEncoder): Buffer {
  return encoder.buffer;
}

describe('a record encoded by the replacement', () => {
  it('has the bytes kafkajs writes for the same record', () => {
    fc.assert(
      fc.property(recordFields, (fields) => {
        expect(bytesOf(encodeRecord(fields)).equals(bytesOf(kafkajsRecord(fields)))).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  it('sits in a buffer of exactly its size', () => {
    fc.assert(
      fc.property(fastPathRecordFields, (fields) => {
        const encoder = encodeRecord(fields);
        expect(encoder.buf.length).toBe(encoder.offset);
      }),
    );
  });

  it('has the bytes kafkajs writes for a Tributary record: 11 CloudEvents string headers and a 1 KiB value', () => {
    const fields: RecordFields = {
      offsetDelta: 469,
      timestampDelta: 0,
      key: 'inference-00000469',
      value: Buffer.alloc(1_024, 7),
      headers: {
        ce_specversion: '1.0',
        ce_id: 'attributed-inference-00000469',
        ce_type: 'tributary.attributions.InferenceAttributed',
        ce_source: 'urn:tributary:attribution',
        ce_time: '2026-01-01T00:00:00.000Z',
        ce_subject: 'inference-00000469',
        ce_dataschema: `urn:tributary:schema:sha256:${'ab'.repeat(32)}`,
        ce_schemaname: 'tributary.attributions.InferenceAttributed',
        ce_schemaversion: '1',
        'content-type': 'application/avro',
        traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`,
      },
    };
    expect(bytesOf(encodeRecord(fields))).toEqual(bytesOf(kafkajsRecord(fields)));
  });
});

describe('a record outside what the fast path encodes', () => {
  // kafkajs's own function takes these, so its output or its error is what the caller gets.
  const outcome = (encode: (fields: RecordFields) => KafkajsEncoder, fields: unknown): string => {
    try {
      return `bytes ${bytesOf(encode(fields as RecordFields)).toString('hex')}`;
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  };

  it.each([
    ['a null header value', { headers: { a: null } }],
    ['an undefined header value', { headers: { a: undefined } }],
    ['a number header value', { headers: { a: 5 } }],
    ['a sparse array header value', { headers: { a: ['x', , 'y'] } }],
    ['an array header value holding null', { headers: { a: ['x', null] } }],
    ['a number key', { key: 12 }],
    ['a Uint8Array value (not a Buffer)', { value: new Uint8Array([1, 2]) }],
    ['a fractional timestamp delta', { timestampDelta: 1.5 }],
    ['a NaN timestamp delta', { timestampDelta: Number.NaN }],
    ['a bigint timestamp delta', { timestampDelta: 2n ** 62n }],
    ['a string offset delta', { offsetDelta: '3' }],
    ['a fractional offset delta', { offsetDelta: 2.5 }],
    ['null headers', { headers: null }],
  ])('gets what kafkajs gives for %s', (_name, fields) => {
    expect(outcome(encodeRecord, fields)).toBe(outcome(kafkajsRecord, fields));
  });
});

describe('a record batch of replacement records', () => {
  it.each([
    ['uncompressed', CompressionTypes.None],
    ['gzipped', CompressionTypes.GZIP],
  ])('has the bytes of a batch of kafkajs records (%s)', async (_name, compression) => {
    const records = fc.sample(recordFields, { numRuns: 50, seed: 5 });
    const batch = (encode: (fields: RecordFields) => KafkajsEncoder) =>
      RecordBatch({ compression, records: records.map(encode), firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_000, lastOffsetDelta: 49 });
    expect(bytesOf(await batch(encodeRecord))).toEqual(bytesOf(await batch(kafkajsRecord)));
  });
});

describe('installing into kafkajs', () => {
  const messages = [
    { key: 'k1', value: Buffer.from('v1'), timestamp: '1700000000000', headers: { ce_id: 'é', multi: ['a', 'b'] } },
    { key: null, value: 'v2', timestamp: '1700000000500', headers: { ce_id: Buffer.from('x') } },
  ];
  const produceRequestBytes = async (): Promise<Buffer> => {
    const request = require(PRODUCE_REQUEST_MODULE) as (options: object) => { encode: () => Promise<KafkajsEncoder> };
    const topicData = [{ topic: 't', partitions: [{ partition: 3, firstSequence: 7, messages }] }];
    return bytesOf(await request({ acks: -1, timeout: 1_000, transactionalId: 'tx', producerId: Long.fromValue(42), producerEpoch: 1, topicData }).encode());
  };

  afterEach(() => jest.resetModules());

  it('refuses once the produce request was loaded with kafkajs\'s encoder bound', async () => {
    const withKafkajsEncoder = await produceRequestBytes();
    expect(withKafkajsEncoder.length).toBeGreaterThan(0);
    expect(() => installRecordEncoder()).toThrow(/produce\/v3\/request was loaded before the replacement was installed/);
  });

  it('refuses a kafkajs version other than the pinned one', () => {
    (require('kafkajs/package.json') as { version: string }).version = '2.2.5';
    const fresh = require('./kafkajs-record-encoder') as typeof import('./kafkajs-record-encoder');
    expect(() => fresh.installRecordEncoder()).toThrow(/kafkajs 2\.2\.5 is installed/);
  });

  it('makes the produce request encode with the replacement, to the same bytes, and is idempotent', async () => {
    const withKafkajsEncoder = await produceRequestBytes();
    jest.resetModules();
    const fresh = require('./kafkajs-record-encoder') as typeof import('./kafkajs-record-encoder');
    fresh.installRecordEncoder();
    fresh.installRecordEncoder();
    expect(require(RECORD_MODULE)).toBe(fresh.encodeRecord);
    expect(await produceRequestBytes()).toEqual(withKafkajsEncoder);
  });
});
