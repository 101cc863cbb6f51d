// Proves the size rule (record-size.ts) counts what Kafka counts: a one-record batch written by kafkajs's
// own RecordBatch encoder is the rule's size less its delta margin (and at most one byte more), for any key, value and headers
// (multi-byte text included), and never more than the rule's size whatever the deltas; and that the rule's
// limit is inclusive.
import fc from 'fast-check';
import { RECORD_BATCH_OVERHEAD_BYTES, recordBatchBytes, recordBytes, recordFit, type RecordParts } from './record-size';

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules */
const { RecordBatch: KafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (fields: object) => Promise<{ buffer: Buffer }>;
};
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (fields: object) => unknown;

/**
 * The rule counts timestampDelta at 10 bytes and offsetDelta at 5; a record alone in a batch has both 0
 * (1 byte each). The 13 bytes more can lengthen the record's own length varint by one byte.
 */
const DELTA_MARGIN_BYTES = 9 + 4;
const within = (rule: number, kafkajs: number) =>
  rule - kafkajs === DELTA_MARGIN_BYTES || rule - kafkajs === DELTA_MARGIN_BYTES + 1;

async function kafkajsBatchBytes(
  records: readonly RecordParts[],
  deltas: { offset: (index: number) => number; timestamp: number } = { offset: (index) => index, timestamp: 0 },
) {
  const encoded = records.map((record, index) =>
    KafkajsRecord({
      offsetDelta: deltas.offset(index),
      timestampDelta: deltas.timestamp,
      key: record.key,
      value: record.value,
      headers: record.headers ?? {},
    }),
  );
  const batch = await KafkajsRecordBatch({ records: encoded, lastOffsetDelta: records.length - 1 });
  return batch.buffer.length;
}

const text = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ minLength: 60, maxLength: 400, unit: 'binary' }),
);
const bytes = fc.uint8Array({ maxLength: 400 }).map((array) => Buffer.from(array));
const part = fc.oneof(
  fc.constant(null),
  text,
  bytes,
  fc.uint8Array({ minLength: 5_000, maxLength: 70_000 }).map((array) => Buffer.from(array)),
);
const headers = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.oneof(text, bytes, fc.array(text, { minLength: 1, maxLength: 3 })),
  { maxKeys: 12 },
);
const record: fc.Arbitrary<RecordParts> = fc.record({ key: part, value: part, headers });

describe('the record size rule', () => {
  it('is the size of the one-record batch kafkajs writes, plus the margin for the widest deltas', async () => {
    await fc.assert(
      fc.asyncProperty(record, async (parts) => {
        const [rule, kafkajs] = [recordFit(parts, Number.MAX_SAFE_INTEGER).bytes, await kafkajsBatchBytes([parts])];
        expect({ rule, kafkajs, within: within(rule, kafkajs) }).toEqual({ rule, kafkajs, within: true });
      }),
      { numRuns: 300 },
    );
  });

  it('is never below what the broker counts, whatever the deltas of a record in a larger batch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
        async (records, offset, timestamp) => {
          expect(recordBatchBytes(records)).toBeGreaterThanOrEqual(
            await kafkajsBatchBytes(records, { offset: () => offset, timestamp }),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('counts text in UTF-8 bytes, not characters: 256 three-byte characters are 768 bytes', () => {
    const ascii = recordBytes({ key: 'k', value: Buffer.alloc(0), headers: { ce_subject: 'a'.repeat(256) } });
    const wide = recordBytes({ key: 'k', value: Buffer.alloc(0), headers: { ce_subject: '界'.repeat(256) } });
    expect(wide - ascii).toBe(512);
  });

  it('lets a record exactly at the limit through and refuses one byte more, naming both sizes', () => {
    const parts: RecordParts = {
      key: 'inference-1',
      value: Buffer.alloc(1_000_000),
      headers: { ce_id: 'evt-1', ce_type: 'tributary.inferences.InferenceCompleted' },
    };
    const { bytes } = recordFit(parts, Number.MAX_SAFE_INTEGER);
    expect(bytes).toBeGreaterThan(1_000_000 + RECORD_BATCH_OVERHEAD_BYTES);
    expect(recordFit(parts, bytes)).toEqual({ bytes, limitBytes: bytes, fits: true });
    expect(recordFit(parts, bytes - 1)).toEqual({ bytes, limitBytes: bytes - 1, fits: false });
  });

  it('counts a null key and null value as Kafka writes them (a length of -1)', async () => {
    const parts: RecordParts = { key: null, value: null };
    expect(recordFit(parts, 1_000).bytes).toBe((await kafkajsBatchBytes([parts])) + DELTA_MARGIN_BYTES);
    expect(recordBytes(parts)).toBe(1 + 1 + 10 + 5 + 1 + 1 + 1);
  });
});
