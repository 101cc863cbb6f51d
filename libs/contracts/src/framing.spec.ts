// Both framings of a record value (raw Avro, and the Confluent framing once registry ids are known):
// written by toRecord, read by fromRecord, and every framed value that does not fit refused with a
// ContractError naming the field.
import fc from 'fast-check';
import { ContractError } from './schemas/contract-error';
import { encodeEvent } from './schemas/codec';
import { INT64_MAX } from './schemas/avro-type';
import type { EventType } from './schemas/generated/event-types';
import { listEventContracts } from './schemas/registry';
import { SAMPLE_EVENTS } from './schemas/sample-events.fixture';
import { fromRecord, toRecord, type OutboundRecord } from './envelope';
import {
  avroBodyOf,
  CONTENT_TYPE_AVRO,
  CONTENT_TYPE_AVRO_CONFLUENT,
  installedSchemaIds,
  installSchemaIds,
  SchemaIdBook,
  SchemaIdBookError,
  uninstallSchemaIds,
} from './framing';

const SOURCE = 'urn:tributary:spec';
const TIME = new Date('2026-12-06T10:00:00.000Z');
const EVENT_TYPES = Object.keys(SAMPLE_EVENTS) as EventType[];

/** A fixed id for every writer schema of this build, as a registry would hand out: 101, 102, ... */
function fixedIds(): Map<string, number> {
  const ids = new Map<string, number>();
  for (const contract of listEventContracts())
    for (const version of contract.versions.values()) ids.set(version.fingerprintSha256, 101 + ids.size);
  return ids;
}
const IDS = SchemaIdBook.of(fixedIds());

function latestFingerprint(eventType: EventType): string {
  return listEventContracts().find((contract) => contract.eventType === eventType)!.latest.fingerprintSha256;
}

function sample(eventType: EventType, schemaIds: SchemaIdBook | null): OutboundRecord {
  return toRecord(eventType, SAMPLE_EVENTS[eventType] as never, { source: SOURCE, schemaIds, time: TIME });
}

function issuesOf(action: () => unknown): Array<[string, string, string]> {
  try {
    action();
  } catch (error) {
    if (!(error instanceof ContractError)) throw error;
    return error.issues.map((issue) => [issue.path, issue.rule, issue.message]);
  }
  throw new Error('expected a ContractError');
}

afterEach(() => uninstallSchemaIds());

describe('toRecord', () => {
  it('writes raw Avro, content-type application/avro, while no ids are installed', () => {
    expect(installedSchemaIds()).toBeNull();
    const record = toRecord('InferenceCompleted', SAMPLE_EVENTS.InferenceCompleted, { source: SOURCE });
    expect(record.headers['content-type']).toBe(CONTENT_TYPE_AVRO);
    expect(record.value.equals(encodeEvent('InferenceCompleted', SAMPLE_EVENTS.InferenceCompleted))).toBe(true);
  });

  it.each(EVENT_TYPES)('frames %s with the zero byte and its registry id before the same Avro body', (eventType) => {
    const raw = sample(eventType, null);
    const framed = sample(eventType, IDS);
    expect(framed.headers['content-type']).toBe(CONTENT_TYPE_AVRO_CONFLUENT);
    expect(framed.value[0]).toBe(0);
    expect(framed.value.readInt32BE(1)).toBe(IDS.idOf(latestFingerprint(eventType)));
    expect(framed.value.subarray(5).equals(raw.value)).toBe(true);
    // The CloudEvents headers are the same on both framings, content-type aside.
    const { 'content-type': _framedType, ...framedRest } = framed.headers;
    const { 'content-type': _rawType, ...rawRest } = raw.headers;
    expect(framedRest).toEqual(rawRest);
    expect(framed.headers.ce_dataschema).toBe(`urn:tributary:schema:sha256:${latestFingerprint(eventType)}`);
  });

  it('gives the same Avro body of a raw and a framed record (avroBodyOf), without copying', () => {
    const raw = sample('ModelRegistered', null);
    const framed = sample('ModelRegistered', IDS);
    expect(avroBodyOf(raw)).toBe(raw.value);
    expect(avroBodyOf(framed).equals(raw.value)).toBe(true);
    expect(avroBodyOf(framed).buffer).toBe(framed.value.buffer);
  });

  it('frames every record once ids are installed, and a record asked raw stays raw', () => {
    installSchemaIds(fixedIds());
    const framed = toRecord('PayoutRequested', SAMPLE_EVENTS.PayoutRequested, { source: SOURCE });
    expect(framed.headers['content-type']).toBe(CONTENT_TYPE_AVRO_CONFLUENT);
    expect(framed.value.readInt32BE(1)).toBe(IDS.idOf(latestFingerprint('PayoutRequested')));
    const raw = toRecord('PayoutRequested', SAMPLE_EVENTS.PayoutRequested, { source: SOURCE, schemaIds: null });
    expect(raw.headers['content-type']).toBe(CONTENT_TYPE_AVRO);
    uninstallSchemaIds();
    expect(toRecord('PayoutRequested', SAMPLE_EVENTS.PayoutRequested, { source: SOURCE }).headers['content-type']).toBe(
      CONTENT_TYPE_AVRO,
    );
  });

  it('refuses an invalid event the same way on both framings', () => {
    const bad = { ...SAMPLE_EVENTS.InferenceCompleted, feeMinor: -1n };
    const raw = issuesOf(() => toRecord('InferenceCompleted', bad, { source: SOURCE, schemaIds: null }));
    expect(issuesOf(() => toRecord('InferenceCompleted', bad, { source: SOURCE, schemaIds: IDS }))).toEqual(raw);
    expect(raw.map(([path, rule]) => [path, rule])).toEqual([['feeMinor', 'min']]);
  });
});

describe('fromRecord reads both framings', () => {
  it.each(EVENT_TYPES)('round-trips %s raw and framed to the same event', (eventType) => {
    const raw = sample(eventType, null);
    const framed = sample(eventType, IDS);
    const fromRaw = fromRecord(raw.value, raw.headers);
    const fromFramed = fromRecord(framed.value, framed.headers, { schemaIds: IDS });
    expect(fromRaw.data).toEqual(SAMPLE_EVENTS[eventType]);
    expect(fromFramed.data).toEqual(fromRaw.data);
    expect(fromFramed.envelope).toEqual(fromRaw.envelope);
    expect(fromRaw.schemaId).toBeNull();
    expect(fromFramed.schemaId).toBe(IDS.idOf(latestFingerprint(eventType)));
    expect(fromFramed.body.equals(fromRaw.body)).toBe(true);
  });

  it('steps over the prefix without copying the value', () => {
    const framed = sample('InferenceAttributed', IDS);
    const { body } = fromRecord(framed.value, framed.headers);
    expect(body.buffer).toBe(framed.value.buffer);
    expect(body.byteOffset).toBe(framed.value.byteOffset + 5);
    expect(body.length).toBe(framed.value.length - 5);
  });

  it('reads a framed record without any ids: the writer schema is found by its fingerprint', () => {
    const framed = sample('InferenceCompleted', IDS);
    expect(installedSchemaIds()).toBeNull();
    expect(fromRecord(framed.value, framed.headers).data).toEqual(SAMPLE_EVENTS.InferenceCompleted);
    // Another registry's ids (a rebuilt registry, a mirror) do not matter to a reader without a book.
    const elsewhere = Buffer.from(framed.value);
    elsewhere.writeInt32BE(7, 1);
    expect(fromRecord(elsewhere, framed.headers, { schemaIds: null }).data).toEqual(SAMPLE_EVENTS.InferenceCompleted);
  });

  it.each([
    ['amounts beyond 2^53', 2n ** 53n + 1n],
    ['the largest int64', INT64_MAX],
  ])('keeps %s exact on both framings', (_name, feeMinor) => {
    const event = { ...SAMPLE_EVENTS.InferenceCompleted, feeMinor };
    for (const schemaIds of [null, IDS]) {
      const record = toRecord('InferenceCompleted', event, { source: SOURCE, schemaIds });
      const decoded = fromRecord(record.value, record.headers, { schemaIds });
      expect(decoded.type === 'InferenceCompleted' && decoded.data.feeMinor).toBe(feeMinor);
    }
  });
});

describe('fromRecord refuses', () => {
  const framed = sample('InferenceCompleted', IDS);
  const withValue = (mutate: (value: Buffer) => Buffer) => mutate(Buffer.from(framed.value));

  it('a content-type that names neither framing', () => {
    for (const contentType of [undefined, '', 'application/json', 'application/avro; framing=confluent']) {
      const headers = { ...framed.headers, 'content-type': contentType };
      expect(issuesOf(() => fromRecord(framed.value, headers))).toEqual([
        ['content-type', 'malformed', `must be ${CONTENT_TYPE_AVRO} or ${CONTENT_TYPE_AVRO_CONFLUENT}`],
      ]);
    }
  });

  it.each([0, 1, 4])('a framed value of %i bytes, shorter than its prefix', (length) => {
    expect(issuesOf(() => fromRecord(framed.value.subarray(0, length), framed.headers))).toEqual([
      ['value', 'malformed', expect.stringContaining(`is ${length} bytes`)],
    ]);
  });

  it.each([1, 0x7f, 0xff])('a framed value whose magic byte is %i', (magic) => {
    const value = withValue((bytes) => {
      bytes[0] = magic;
      return bytes;
    });
    expect(issuesOf(() => fromRecord(value, framed.headers))).toEqual([
      ['value', 'malformed', expect.stringContaining(`starts with byte ${magic}`)],
    ]);
  });

  it.each([0, -1, -(2 ** 31)])('a framed value naming registry id %i', (id) => {
    const value = withValue((bytes) => {
      bytes.writeInt32BE(id, 1);
      return bytes;
    });
    expect(issuesOf(() => fromRecord(value, framed.headers))).toEqual([
      ['value', 'malformed', expect.stringContaining(`names registry id ${id}`)],
    ]);
  });

  it('a framed value whose id is not the one its fingerprint is registered under, when the ids are known', () => {
    const otherId = IDS.idOf(latestFingerprint('PayoutRequested'))!;
    const value = withValue((bytes) => {
      bytes.writeInt32BE(otherId, 1);
      return bytes;
    });
    const expected = [
      [
        'value',
        'malformed',
        `names registry id ${otherId}, but the schema in ce_dataschema is registered as ${IDS.idOf(latestFingerprint('InferenceCompleted'))}`,
      ],
    ];
    expect(issuesOf(() => fromRecord(value, framed.headers, { schemaIds: IDS }))).toEqual(expected);
    installSchemaIds(IDS);
    expect(issuesOf(() => fromRecord(value, framed.headers))).toEqual(expected);
  });

  it('a raw record read as framed, and a framed one read as raw', () => {
    const raw = sample('InferenceCompleted', null);
    const rawAsFramed = { ...raw.headers, 'content-type': CONTENT_TYPE_AVRO_CONFLUENT };
    const framedAsRaw = { ...framed.headers, 'content-type': CONTENT_TYPE_AVRO };
    expect(() => fromRecord(raw.value, rawAsFramed)).toThrow(ContractError);
    expect(() => fromRecord(framed.value, framedAsRaw)).toThrow(ContractError);
  });

  it('never throws anything but ContractError, whatever the value and the framing (property)', () => {
    const headersOf = EVENT_TYPES.flatMap((eventType) => [
      sample(eventType, null).headers,
      sample(eventType, IDS).headers,
    ]);
    fc.assert(
      fc.property(
        fc.constantFrom(...headersOf),
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          // A valid prefix before random bytes reaches the Avro decoder; a valid body after a random prefix, the frame checks.
          fc.tuple(fc.integer({ min: 1, max: 400 }), fc.uint8Array({ maxLength: 64 })).map(([id, tail]) => {
            const bytes = Buffer.alloc(5 + tail.length);
            bytes.writeInt32BE(id, 1);
            bytes.set(tail, 5);
            return new Uint8Array(bytes);
          }),
          fc
            .tuple(fc.uint8Array({ minLength: 5, maxLength: 5 }), fc.constantFrom(...EVENT_TYPES))
            .map(([prefix, eventType]) => new Uint8Array(Buffer.concat([prefix, sample(eventType, null).value]))),
        ),
        fc.constantFrom<SchemaIdBook | null>(IDS, null),
        (headers, bytes, schemaIds) => {
          try {
            fromRecord(Buffer.from(bytes), headers, { schemaIds });
          } catch (error) {
            if (!(error instanceof ContractError)) throw error;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('SchemaIdBook', () => {
  const ids = fixedIds();
  const [someFingerprint] = [...ids.keys()];

  it('takes a map or a plain object holding every writer schema, and keeps unknown fingerprints', () => {
    const extra = 'ab'.repeat(32);
    const book = SchemaIdBook.of({ ...Object.fromEntries(ids), [extra]: 2 ** 31 - 1 });
    expect(book.size).toBe(ids.size + 1);
    expect(book.idOf(extra)).toBe(2 ** 31 - 1);
    expect(SchemaIdBook.of(ids).idOf(someFingerprint!)).toBe(101);
  });

  it('lets two fingerprints share an id', () => {
    expect(() => SchemaIdBook.of(new Map([...ids].map(([fingerprint]) => [fingerprint, 1])))).not.toThrow();
  });

  it.each([0, -1, 1.5, 2 ** 31, Number.NaN, Number.POSITIVE_INFINITY])('refuses id %p', (id) => {
    expect(() => SchemaIdBook.of(new Map([...ids, [someFingerprint!, id]]))).toThrow(
      new SchemaIdBookError(`schema ids: ${someFingerprint}: registry id must be an integer from 1 to 2147483647`),
    );
  });

  it('refuses a fingerprint that is not 64 lowercase hex digits', () => {
    for (const fingerprint of ['AB'.repeat(32), 'ab', `sha256:${'ab'.repeat(32)}`])
      expect(() => SchemaIdBook.of(new Map([...ids, [fingerprint, 5]]))).toThrow(/must be a SHA-256 fingerprint/);
  });

  it('refuses a map missing any writer schema, naming it', () => {
    const missing = new Map(ids);
    missing.delete(someFingerprint!);
    expect(() => SchemaIdBook.of(missing)).toThrow(`${someFingerprint}: missing`);
    expect(() => installSchemaIds(missing)).toThrow(SchemaIdBookError);
    expect(installedSchemaIds()).toBeNull();
    expect(() => installSchemaIds({})).toThrow(/and \d+ more$/);
  });
});
