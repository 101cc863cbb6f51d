// An event's idempotency hash is the same whether the gateway writes raw Avro or Confluent-framed records:
// a producer retrying, after the registry ids are installed, an event acknowledged raw gets its original
// answer back instead of a 409 conflict; and the hash of a raw record is the one stored before the change.
import { createHash } from 'node:crypto';
import { schemaCatalogEntries, SchemaIdBook, toRecord } from '@tributary/contracts';
import { SAMPLE_EVENTS } from '../../../libs/contracts/src/schemas/sample-events.fixture';
import { bodySha256Of } from '../src/ingest/ingest.service';

const ids = SchemaIdBook.of(new Map(schemaCatalogEntries().map((entry, index) => [entry.fingerprint, 7 + index])));

describe('the idempotency hash of an event', () => {
  it('is the same for the raw and the framed record, and the raw one is the hash of the value as before', () => {
    const options = { source: 'urn:tributary:producer:p' };
    const raw = toRecord('ModelRegistered', SAMPLE_EVENTS.ModelRegistered, { ...options, schemaIds: null });
    const framed = toRecord('ModelRegistered', SAMPLE_EVENTS.ModelRegistered, { ...options, schemaIds: ids });
    expect(framed.value.equals(raw.value)).toBe(false);
    expect(bodySha256Of('ModelRegistered', framed)).toBe(bodySha256Of('ModelRegistered', raw));
    expect(bodySha256Of('ModelRegistered', raw)).toBe(
      createHash('sha256').update('ModelRegistered\n').update(raw.value).digest('hex'),
    );
  });
});
