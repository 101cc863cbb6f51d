// An inference record names its producer: the decision carries the record's ce_source (the identity the
// gateway stamped, or the one a direct producer declared), so the ledger can back the decision's credits
// with that producer's deposits. A record that names no producer cannot be decided.
import { SchemaIdBook, schemaCatalogEntries, toRecord } from '@tributary/contracts';
import { keyPartition, type InboundRecord } from '@tributary/messaging';
import { SAMPLE_EVENTS } from '../../../libs/contracts/src/schemas/sample-events.fixture';
import { InferenceRejected, readInference } from '../src/decision/inference-record';

const LIMITS = { attributionsMax: 1_000, feeMinorMax: 10n ** 15n, clockSkewMsMax: 60_000, partitionCount: 6 };

function inboundOf(source: string, schemaIds: SchemaIdBook | null = null): InboundRecord {
  const record = toRecord('InferenceCompleted', SAMPLE_EVENTS.InferenceCompleted, { source, schemaIds });
  const key = record.key.toString();
  return {
    topic: record.topic,
    partition: keyPartition(key, LIMITS.partitionCount),
    offset: '0',
    key: Buffer.from(key),
    value: record.value,
    headers: { ...record.headers },
    timestampMs: 1_000,
  };
}

describe('an inference record', () => {
  it("gives the decision its producer: the record's ce_source", () => {
    expect(readInference(inboundOf('urn:tributary:producer:acme'), LIMITS, 1_000).producer).toBe(
      'urn:tributary:producer:acme',
    );
  });

  it('cannot be decided without a producer', () => {
    const record = inboundOf('urn:tributary:producer:acme');
    const { ce_source: _dropped, ...headers } = record.headers;
    expect(() => readInference({ ...record, headers }, LIMITS, 1_000)).toThrow(InferenceRejected);
  });

  it('has one content hash whether written raw or Confluent-framed: a re-delivery across the change is a duplicate', () => {
    const ids = SchemaIdBook.of(new Map(schemaCatalogEntries().map((entry, index) => [entry.fingerprint, 1 + index])));
    const raw = readInference(inboundOf('urn:tributary:producer:acme'), LIMITS, 1_000);
    const framed = readInference(inboundOf('urn:tributary:producer:acme', ids), LIMITS, 1_000);
    expect(framed.record.value!.length).toBe(raw.record.value!.length + 5);
    expect(framed.contentHash.equals(raw.contentHash)).toBe(true);
  });
});
