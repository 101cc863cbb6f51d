// Proves that the replacement record and record batch encoders write exactly kafkajs 2.2.4's bytes, by
// comparing them with kafkajs's own functions on random inputs (fast-check) and through a whole produce
// request after installing them; and that installing refuses loudly where the swap would not apply.
import fc from 'fast-check';
import { crc32c } from './crc32c';
import { createProduceRequest, type ProduceRequestBuilder } from './kafkajs-produce-request-encoder';
import { encodeRecordBatch, kafkajsRecordBatch, type RecordBatchFields } from './kafkajs-record-batch-encoder';
import { encodeRecord, kafkajsRecord, type KafkajsEncoder, type RecordFields } from './kafkajs-record-encoder';

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules */
const PRODUCE_REQUEST_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request';
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;
const { Types: CompressionTypes } = require('kafkajs/src/protocol/message/compression') as {
  Types: { None: number; GZIP: number };
};
const Long = require('kafkajs/src/utils/long') as { fromValue: (value: number | string) => unknown };

/** Strings of UTF-16 code units, lone surrogates included (they encode as U+FFFD, three bytes). */
const codeUnitString = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 })
  .map((units) => String.fromCharCode(...units));
const text = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  codeUnitString,
  // Long enough to leave the short-ASCII loop and need a two-byte length varint.
  fc.string({ minLength: 49, maxLength: 300 }),
);
const bytes = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array));
const keyOrValue = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  text,
  bytes,
  fc.uint8Array({ minLength: 1_000, maxLength: 20_000 }).map((array) => Buffer.from(array)),
);
const headerValue = fc.oneof(text, bytes, fc.array(fc.oneof(text, bytes), { maxLength: 4 }));
/** Names like '7' put integer-like keys first in Object.keys, which both encoders must follow. */
const headerName = fc.oneof(text, fc.nat({ max: 20 }).map(String));
const headers = fc.oneof(fc.constant(undefined), fc.dictionary(headerName, headerValue, { maxKeys: 14 }));
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const offsetDelta = fc.oneof(
  fc.constant(undefined),
  fc.nat({ max: 1_000 }),
  int32,
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
);
const fastTimestampDelta = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: -100_000, max: 100_000 }),
  fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }),
  fc.constantFrom(2 ** 52 - 1, -(2 ** 52) + 1, 0, -0),
);
// At and beyond the fast path's bound of 2^52: kafkajs's own function encodes these.
const timestampDelta = fc.oneof(
  fastTimestampDelta,
  fc.constantFrom(2 ** 52, -(2 ** 52), 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 60, -(2 ** 62)),
);
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
    // eslint-disable-next-line no-sparse-arrays -- the hole is the input under test
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

const int16 = fc.integer({ min: -(2 ** 15), max: 2 ** 15 - 1 });
const epochMs = fc.integer({ min: 0, max: 2 ** 45 });
/** kafkajs passes message timestamps as given (decimal strings in Tributary) and Date.now() otherwise. */
const timestamp = fc.oneof(fc.constant(undefined), epochMs, epochMs.map(String));
const int64 = fc.oneof(
  fc.integer({ min: -1, max: 2 ** 40 }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => Long.fromValue(String(value))),
);
const batchOptions = fc.record(
  {
    firstOffset: int64,
    firstTimestamp: timestamp,
    maxTimestamp: timestamp,
    partitionLeaderEpoch: int32,
    lastOffsetDelta: int32,
    transactional: fc.boolean(),
    producerId: int64,
    producerEpoch: int16,
    firstSequence: int32,
  },
  { requiredKeys: [] },
);

describe('a record batch encoded by the replacement', () => {
  const batches = fc.tuple(batchOptions, fc.array(recordFields, { minLength: 1, maxLength: 12 }), fc.boolean());
  const withBoth = async (options: RecordBatchFields, records: RecordFields[], replacementRecords: boolean) => {
    const fields = { ...options, records: records.map(replacementRecords ? encodeRecord : kafkajsRecord) };
    // Both read Date.now() for a missing timestamp: pin it so the two calls see the same instant.
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_700_000_000_123);
    try {
      return { actual: await encodeRecordBatch(fields), expected: await kafkajsRecordBatch(fields) };
    } finally {
      now.mockRestore();
    }
  };

  it('has the bytes kafkajs writes for the same records and options, in a buffer of exactly its size', async () => {
    await fc.assert(
      fc.asyncProperty(batches, async ([options, records, replacementRecords]) => {
        const { actual, expected } = await withBoth(options, records, replacementRecords);
        expect(bytesOf(actual).equals(bytesOf(expected))).toBe(true);
        expect(actual.buf.length).toBe(actual.offset);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['gzipped records', { compression: CompressionTypes.GZIP }],
    ['no records', { records: [] }],
    ['records that are not Encoders', { records: [Buffer.from('x')] }],
  ])("is kafkajs's own for %s", async (_name, override) => {
    const fields = {
      firstTimestamp: 1,
      maxTimestamp: 2,
      records: fc.sample(recordFields, { numRuns: 20, seed: 5 }).map(encodeRecord),
      ...override,
    } as RecordBatchFields;
    const outcome = async (encode: (fields: RecordBatchFields) => Promise<KafkajsEncoder>) =>
      encode(fields).then(
        (encoder) => bytesOf(encoder).toString('hex'),
        (error: Error) => `${error.name}: ${error.message}`,
      );
    expect(await outcome(encodeRecordBatch)).toBe(await outcome(kafkajsRecordBatch));
  });
});

describe('the CRC-32C of a batch', () => {
  it('is the check value 0xE3069283 for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('is what kafkajs computes, for any bytes and any range of them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2_000 }), fc.nat(), fc.nat(), (array, from, to) => {
        const bytes = Buffer.from(array);
        const start = bytes.length === 0 ? 0 : from % bytes.length;
        const end = start + (bytes.length === 0 ? 0 : to % (bytes.length - start + 1));
        expect(crc32c(bytes)).toBe(kafkajsCrc32C(bytes));
        expect(crc32c(bytes, start, end)).toBe(kafkajsCrc32C(bytes.subarray(start, end)));
      }),
    );
  });
});

type ProduceRequestFn = (options: object) => {
  apiVersion: number;
  expectResponse: () => boolean;
  encode: () => Promise<KafkajsEncoder>;
};

describe('a produce request encoded by the replacement', () => {
  // Loaded before anything installs: kafkajs's own request, with its own record encoders bound.
  const kafkajsProduceRequest = require(PRODUCE_REQUEST_MODULE) as ProduceRequestFn;
  const replacement = createProduceRequest(
    kafkajsProduceRequest as unknown as ProduceRequestBuilder,
  ) as unknown as ProduceRequestFn;
  const message = fc.record({ key: keyOrValue, value: keyOrValue, headers, timestamp }, { requiredKeys: [] });
  const partition = fc.record({
    partition: fc.nat({ max: 200 }),
    firstSequence: fc.option(int32, { nil: undefined }),
    messages: fc.array(message, { minLength: 1, maxLength: 8 }),
  });
  const topic = fc.record({
    topic: fc.oneof(text, fc.constantFrom('tributary.attributions', '')),
    partitions: fc.array(partition, { maxLength: 3 }),
  });
  const request = fc.record(
    {
      acks: fc.constantFrom(-1, 0, 1),
      timeout: fc.nat({ max: 2 ** 31 - 1 }),
      transactionalId: fc.oneof(fc.constant(null), text),
      producerId: int64,
      producerEpoch: int16,
      topicData: fc.array(topic, { maxLength: 3 }),
    },
    { requiredKeys: ['acks', 'timeout', 'topicData'] },
  );
  const encodedByBoth = async (fields: object) => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_700_000_000_123);
    try {
      const actual = replacement(fields);
      const expected = kafkajsProduceRequest(fields);
      expect(actual.expectResponse()).toBe(expected.expectResponse());
      return { actual: await actual.encode(), expected: await expected.encode() };
    } finally {
      now.mockRestore();
    }
  };

  it('has the bytes kafkajs writes for the same topics, partitions and messages, in a buffer of exactly its size', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (fields) => {
        const { actual, expected } = await encodedByBoth(fields);
        expect(bytesOf(actual).equals(bytesOf(expected))).toBe(true);
        expect(actual.buf.length).toBe(actual.offset);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['gzipped', { compression: CompressionTypes.GZIP }],
    ['with a partition of no messages', { topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [] }] }] }],
    [
      'with a null header value',
      {
        topicData: [
          { topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v', headers: { a: null } }] }] },
        ],
      },
    ],
    // kafkajs spreads each message, which copies own enumerable properties only.
    [
      'with a message that inherits its key',
      {
        topicData: [
          {
            topic: 't',
            partitions: [
              { partition: 0, messages: [Object.assign(Object.create({ key: 'inherited' }), { value: 'v' })] },
            ],
          },
        ],
      },
    ],
    [
      'with a message whose key is not enumerable',
      {
        topicData: [
          {
            topic: 't',
            partitions: [
              {
                partition: 0,
                messages: [Object.defineProperty({ value: 'v' }, 'key', { value: 'hidden', enumerable: false })],
              },
            ],
          },
        ],
      },
    ],
  ])('is what kafkajs writes when %s', async (_name, override) => {
    const fields = {
      acks: -1,
      timeout: 1_000,
      transactionalId: 'tx',
      topicData: [{ topic: 't', partitions: [{ partition: 1, messages: [{ key: 'k', value: 'v' }] }] }],
      ...override,
    };
    const outcome = (encode: () => Promise<KafkajsEncoder>) =>
      encode().then(
        (encoder) => bytesOf(encoder).toString('hex'),
        (error: Error) => `${error.name}: ${error.message}`,
      );
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_700_000_000_123);
    try {
      expect(await outcome(() => replacement(fields).encode())).toBe(
        await outcome(() => kafkajsProduceRequest(fields).encode()),
      );
    } finally {
      now.mockRestore();
    }
  });
});

describe('installing into kafkajs', () => {
  const messages = [
    { key: 'k1', value: Buffer.from('v1'), timestamp: '1700000000000', headers: { ce_id: 'é', multi: ['a', 'b'] } },
    { key: null, value: 'v2', timestamp: '1700000000500', headers: { ce_id: Buffer.from('x') } },
  ];
  const produceRequestBytes = async (version = 3): Promise<{ apiVersion: number; bytes: Buffer }> => {
    const request = require(`kafkajs/src/protocol/requests/produce/v${version}/request`) as ProduceRequestFn;
    const topicData = [{ topic: 't', partitions: [{ partition: 3, firstSequence: 7, messages }] }];
    const built = request({
      acks: -1,
      timeout: 1_000,
      transactionalId: 'tx',
      producerId: Long.fromValue(42),
      producerEpoch: 1,
      topicData,
    });
    return { apiVersion: built.apiVersion, bytes: bytesOf(await built.encode()) };
  };
  const isInstalled = (): boolean =>
    (require(PRODUCE_REQUEST_MODULE) as { [key: symbol]: unknown })[Symbol.for('tributary.kafkajsEncoders')] === true;

  beforeEach(() => jest.resetModules());

  it.each([3, 7])("refuses once produce request v%i was loaded with kafkajs's encoders bound", async (version) => {
    await produceRequestBytes(version);
    const fresh = require('./kafkajs-encoders') as typeof import('./kafkajs-encoders');
    expect(() => fresh.installKafkajsEncoders()).toThrow(
      new RegExp(`produce/v${version}/request was loaded before the replacement was installed`),
    );
  });

  it('refuses a kafkajs version other than the pinned one', () => {
    (require('kafkajs/package.json') as { version: string }).version = '2.2.5';
    const fresh = require('./kafkajs-encoders') as typeof import('./kafkajs-encoders');
    expect(() => fresh.installKafkajsEncoders()).toThrow(/kafkajs 2\.2\.5 is installed/);
  });

  it('makes produce requests v3 to v7 encode with the replacement, to the same bytes, and is idempotent', async () => {
    const withKafkajsEncoders = await Promise.all([3, 4, 5, 6, 7].map((version) => produceRequestBytes(version)));
    expect(isInstalled()).toBe(false);
    jest.resetModules();
    const fresh = require('./kafkajs-encoders') as typeof import('./kafkajs-encoders');
    fresh.installKafkajsEncoders();
    fresh.installKafkajsEncoders();
    expect(isInstalled()).toBe(true);
    expect(await Promise.all([3, 4, 5, 6, 7].map((version) => produceRequestBytes(version)))).toEqual(
      withKafkajsEncoders,
    );
  });
});
