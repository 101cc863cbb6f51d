// Proves the topic catalog's size limits carry what the system writes (issue 18, "every record fits"):
// every topic states max.message.bytes; every DLQ takes the largest record of any topic plus the dead
// letter's headers; and the largest record the schemas' own limits allow for each event type (every
// string at its maxLength in three-byte UTF-8 characters, every array at its maxItems, every header at its
// longest) fits its topic, except the decision, whose worst case is several MB: the attribution service
// measures each decision and dead-letters one that would not fit, which is why this bound is pinned here.
import { listEventContracts, type EventContract } from './schemas';
import { fieldLimits, typeLimits, type Limits } from './schemas/validation';
import type { SchemaNode } from './schemas/schema-tree';
import { CE_HEADERS } from './envelope';
import { CONFLUENT_PREFIX_BYTES, CONTENT_TYPE_AVRO_CONFLUENT } from './framing';
import {
  catalogFor,
  DEAD_LETTER_RECORD_BYTES_MAX,
  maxMessageBytes,
  RECORD_BYTES_MAX,
  topicCatalog,
  topicMaxMessageBytes,
} from './topics';
import { RECORD_BATCH_OVERHEAD_BYTES, recordBytes } from './record-size';

/** The most UTF-8 bytes one UTF-16 code unit (what maxLength counts) takes: three (U+0800 to U+FFFF, lone surrogates as U+FFFD). */
const UTF8_BYTES_PER_CODE_UNIT_MAX = 3;
const WIDE = '界';
/** libs/messaging dead-letter.ts cuts a dlq_reason to this many code units. */
const DLQ_REASON_LENGTH_MAX = 1_024;

function varintBytes(n: number): number {
  let zigzag = n * 2;
  let bytes = 1;
  while (zigzag >= 0x80) {
    zigzag = Math.floor(zigzag / 0x80);
    bytes += 1;
  }
  return bytes;
}

/** The most Avro binary bytes a value of this node can take within the schema's limits; Infinity where it declares none. */
function avroBytesMax(node: SchemaNode, limits: Limits): number {
  switch (node.kind) {
    case 'primitive': {
      const fixedSizes: Partial<Record<string, number>> = {
        null: 0,
        boolean: 1,
        int: 5,
        long: 10,
        float: 4,
        double: 8,
      };
      if (fixedSizes[node.name] !== undefined) return fixedSizes[node.name]!;
      if (limits.maxLength === undefined) return Infinity;
      const bytes = node.name === 'string' ? limits.maxLength * UTF8_BYTES_PER_CODE_UNIT_MAX : limits.maxLength;
      return varintBytes(bytes) + bytes;
    }
    case 'enum':
      return varintBytes(node.symbols.length);
    case 'fixed':
      return node.size;
    case 'record':
      return node.fields.reduce((sum, field) => sum + avroBytesMax(field.type, fieldLimits(field)), 0);
    case 'array':
      if (limits.maxItems === undefined) return Infinity;
      // One block of maxItems items, then the empty block that ends the array.
      return varintBytes(limits.maxItems) + limits.maxItems * avroBytesMax(node.items, typeLimits(node.items)) + 1;
    case 'map':
      return Infinity;
    case 'union':
      return (
        varintBytes(node.branches.length) + Math.max(...node.branches.map((branch) => avroBytesMax(branch, limits)))
      );
  }
}

function keyLengthMax(contract: EventContract): number {
  const field = contract.latest.tree.fields.find((candidate) => candidate.name === contract.keyField)!;
  return fieldLimits(field).maxLength!;
}

/**
 * The largest record of an event type: value, key and every header at its longest (ids in three-byte
 * characters), in the larger framing: the Confluent prefix before the value, and its longer content-type.
 */
function worstCaseBatchBytes(contract: EventContract, extraHeaders: Record<string, string> = {}): number {
  const valueBytes = Math.max(...[...contract.versions.values()].map((version) => avroBytesMax(version.tree, {})));
  const eventIdLength = fieldLimits(contract.latest.tree.fields.find((field) => field.name === 'eventId')!).maxLength!;
  const wide = (length: number) => WIDE.repeat(length);
  const headers = {
    [CE_HEADERS.specversion]: '1.0',
    [CE_HEADERS.id]: wide(eventIdLength),
    [CE_HEADERS.type]: `tributary.${contract.domain}.${contract.eventType}`,
    [CE_HEADERS.source]: wide(256),
    [CE_HEADERS.time]: '+275760-09-13T00:00:00.000Z',
    [CE_HEADERS.subject]: wide(keyLengthMax(contract)),
    [CE_HEADERS.dataschema]: `urn:tributary:schema:sha256:${'f'.repeat(64)}`,
    [CE_HEADERS.schemaname]: `tributary.${contract.domain}.${contract.eventType}`,
    [CE_HEADERS.schemaversion]: '2147483647',
    [CE_HEADERS.contentType]: CONTENT_TYPE_AVRO_CONFLUENT,
    [CE_HEADERS.traceparent]: `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`,
    ...extraHeaders,
  };
  return (
    RECORD_BATCH_OVERHEAD_BYTES +
    recordBytes({
      key: wide(keyLengthMax(contract)),
      value: Buffer.alloc(CONFLUENT_PREFIX_BYTES + valueBytes),
      headers,
    })
  );
}

describe('the topic catalog', () => {
  const catalog = topicCatalog(catalogFor('staging.'));

  it('states max.message.bytes on every topic, a DLQ taking any topic record plus its dead-letter headers', () => {
    for (const spec of catalog)
      expect({ topic: spec.name, bytes: maxMessageBytes(spec) }).toEqual({
        topic: spec.name,
        bytes: expect.any(Number),
      });
    const largest = Math.max(...catalog.filter((spec) => spec.role !== 'dead-letter').map(maxMessageBytes));
    expect(largest).toBe(RECORD_BYTES_MAX);
    for (const spec of catalog.filter((candidate) => candidate.role === 'dead-letter'))
      expect(maxMessageBytes(spec)).toBe(DEAD_LETTER_RECORD_BYTES_MAX);
    // The dead-letter headers at their longest (a reason of 1,024 code units, three bytes each) fit the headroom many times over.
    const deadLetterHeaders = recordBytes({
      key: null,
      value: null,
      headers: {
        dlq_reason: WIDE.repeat(DLQ_REASON_LENGTH_MAX),
        dlq_error_class: 'x'.repeat(64),
        dlq_source_topic: 'x'.repeat(249),
        dlq_source_partition: '2147483647',
        dlq_source_offset: '9223372036854775807',
        dlq_consumer_group: 'x'.repeat(249),
        dlq_failed_at: '+275760-09-13T00:00:00.000Z',
      },
    });
    expect(deadLetterHeaders * 10).toBeLessThan(DEAD_LETTER_RECORD_BYTES_MAX - RECORD_BYTES_MAX);
  });

  it.each(
    listEventContracts()
      .filter((contract) => contract.eventType !== 'InferenceAttributed')
      .map((contract) => [contract.eventType, contract] as const),
  )('carries the largest %s the schema accepts', (_type, contract) => {
    const worst = worstCaseBatchBytes(contract);
    expect(Number.isFinite(worst)).toBe(true);
    expect(worst).toBeLessThanOrEqual(topicMaxMessageBytes(contract.topic));
  });

  it('leaves the largest InferenceCompleted at about three quarters of its topic, so every accepted inference is carried', () => {
    const inferences = listEventContracts().find((contract) => contract.eventType === 'InferenceCompleted')!;
    const worst = worstCaseBatchBytes(inferences);
    expect(worst).toBeGreaterThan(770_000);
    expect(worst).toBeLessThan(0.8 * RECORD_BYTES_MAX);
  });

  it('does not carry the largest decision: the attribution service dead-letters one that would not fit (decision-too-large)', () => {
    const decisions = listEventContracts().find((contract) => contract.eventType === 'InferenceAttributed')!;
    expect(worstCaseBatchBytes(decisions)).toBeGreaterThan(4 * RECORD_BYTES_MAX);
  });
});
