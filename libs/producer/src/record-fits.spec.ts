// Proves the producer client refuses, before anything is sent, an event its topic (or one produce request)
// could not carry, with an error naming the event, its size and the limit; and lets the largest event the
// schemas accept through at the default sizes.
import {
  CONTENT_TYPE_AVRO,
  CONTENT_TYPE_AVRO_CONFLUENT,
  schemaCatalogEntries,
  SchemaIdBook,
  toRecord,
  type InferenceCompleted,
} from '@tributary/contracts';
import { SAMPLE_EVENTS } from '../../contracts/src/schemas/sample-events.fixture';
import {
  assertRecordFits,
  outboundRecordBytes,
  RecordTooLargeError,
  REQUEST_BYTES_MAX_DEFAULT,
  topicBytesMaxOf,
} from './record-sender';

const wide = (head: string, length = 256) => head + '界'.repeat(length - head.length);

const SCHEMA_IDS = SchemaIdBook.of(
  new Map(schemaCatalogEntries().map((entry, index) => [entry.fingerprint, 1 + index])),
);

function inference(attributions: number, schemaIds: SchemaIdBook | null = null): ReturnType<typeof toRecord> {
  const data: InferenceCompleted = {
    ...SAMPLE_EVENTS.InferenceCompleted,
    eventId: wide('e'),
    inferenceId: wide('i'),
    attributions: Array.from({ length: attributions }, (_, index) => ({
      contributionId: wide(`c${index}-`),
      scorePpm: 1_000_000n,
    })),
  };
  return toRecord('InferenceCompleted', data, { source: 'urn:tributary:producer:spec', schemaIds });
}

describe('the producer client size check', () => {
  it('lets the largest inference the schema accepts through at the default request size', () => {
    const largest = inference(1_000);
    expect(outboundRecordBytes(largest)).toBeGreaterThan(760_000);
    expect(topicBytesMaxOf(largest)).toBe(1_048_576);
    expect(() => assertRecordFits(largest, REQUEST_BYTES_MAX_DEFAULT)).not.toThrow();
  });

  it('refuses an event larger than one request may hold, naming it, its size and the limit', () => {
    const record = inference(400);
    let error: unknown;
    try {
      assertRecordFits(record, 262_144);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(RecordTooLargeError);
    const refusal = error as RecordTooLargeError;
    expect(refusal).toMatchObject({ eventId: record.envelope.id, limitBytes: 262_144, limitName: 'requestBytesMax' });
    expect(refusal.bytes).toBeGreaterThan(262_144);
    expect(refusal.message).toContain(`${refusal.bytes} bytes`);
    expect(refusal.message).toContain('262144 bytes of one produce request');
  });

  it('names the topic and max.message.bytes when the topic is the smaller limit', () => {
    const record = inference(1_000);
    expect(() => assertRecordFits(record, 16 * 1_048_576)).not.toThrow();
    // A record the catalog's topic limit refuses: the same event with a value padded past 1 MiB.
    const padded = { ...record, value: Buffer.alloc(1_048_576) };
    expect(() => assertRecordFits(padded, 16 * 1_048_576)).toThrow(
      /more than the 1048576 bytes tributary\.inferences takes \(max\.message\.bytes\)/,
    );
  });

  it('counts the Confluent prefix and the longer content-type of a framed record', () => {
    const raw = inference(400);
    const framed = inference(400, SCHEMA_IDS);
    expect(outboundRecordBytes(framed) - outboundRecordBytes(raw)).toBe(
      5 + CONTENT_TYPE_AVRO_CONFLUENT.length - CONTENT_TYPE_AVRO.length,
    );
    // A request limit the raw record exactly fits refuses the framed one.
    const limit = outboundRecordBytes(raw) + 61;
    expect(() => assertRecordFits(raw, limit)).not.toThrow();
    expect(() => assertRecordFits(framed, limit)).toThrow(RecordTooLargeError);
    expect(() => assertRecordFits(inference(1_000, SCHEMA_IDS), REQUEST_BYTES_MAX_DEFAULT)).not.toThrow();
  });
});
