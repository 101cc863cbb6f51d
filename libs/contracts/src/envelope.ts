/**
 * The record on the wire: key = the entity id, value = Avro binary, headers = CloudEvents' Kafka protocol
 * binding in binary mode. The headers alone say what a record is (type, id, source, time, schema), so
 * an operator can filter by event type with Kafka's console consumer or kcat without decoding anything.
 *
 * The value has one of two framings (framing.ts), named by content-type: raw Avro (`application/avro`,
 * every record written before the schema registry, and any written while no ids are installed) or the
 * Confluent framing (`application/vnd.tributary.avro+confluent`: a zero byte and the registry id before
 * the same Avro body). toRecord frames once ids are installed; fromRecord reads both, forever.
 */
import { ContractError } from './schemas/contract-error';
import type { EventType, TributaryEvent } from './schemas/generated/event-types';
import {
  eventKey,
  findByFingerprint,
  getEventContract,
  topicOf,
  type EventData,
  type EventInput,
} from './schemas/registry';
import { decodeEvent, encodeEvent, encodeEventAfter } from './schemas/codec';
import {
  CONFLUENT_PREFIX_BYTES,
  CONTENT_TYPE_AVRO,
  CONTENT_TYPE_AVRO_CONFLUENT,
  framingOf,
  installedSchemaIds,
  readConfluentFrame,
  writeConfluentPrefix,
  type SchemaIdBook,
} from './framing';

export const CE_HEADERS = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  subject: 'ce_subject',
  dataschema: 'ce_dataschema',
  /** CloudEvents extension attributes (lowercase alphanumerics, as the spec requires). */
  schemaname: 'ce_schemaname',
  schemaversion: 'ce_schemaversion',
  contentType: 'content-type',
  /** W3C Trace Context, unchanged, so tracing tools that read Kafka headers find it. */
  traceparent: 'traceparent',
} as const;

const SCHEMA_URN_PREFIX = 'urn:tributary:schema:sha256:';
const SOURCE_LENGTH_MAX = 256;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The CloudEvents attributes of one record, as read from or written to its headers. */
export interface Envelope {
  readonly specversion: '1.0';
  readonly id: string;
  /** The Avro full name of the event, e.g. `tributary.inferences.InferenceCompleted`. */
  readonly type: string;
  /** Who published it: the producer identity the gateway authenticated, or the service's own name. */
  readonly source: string;
  readonly time: string;
  /** The entity id, equal to the record key. */
  readonly subject: string;
  readonly dataschema: string;
  readonly schemaname: string;
  readonly schemaversion: number;
  readonly traceparent?: string;
}

export interface OutboundRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
  readonly envelope: Envelope;
}

export interface PublishOptions {
  readonly source: string;
  readonly time?: Date;
  readonly traceparent?: string;
  /** Prepended to the topic; the same TRIBUTARY_TOPIC_PREFIX the services use. */
  readonly topicPrefix?: string;
  /**
   * The registry ids to frame with: a book frames the record (Confluent framing), null writes it raw.
   * Left out, the process's installed book decides (installSchemaIds), raw while none is installed.
   */
  readonly schemaIds?: SchemaIdBook | null;
}

/** How fromRecord reads. */
export interface ReadOptions {
  /**
   * The ids a framed record's registry id is checked against: the id must be the one its ce_dataschema
   * fingerprint is registered under. Left out, the installed book (if any); null, no check.
   */
  readonly schemaIds?: SchemaIdBook | null;
}

/** The Avro full name carried in ce_type, e.g. `tributary.inferences.InferenceCompleted`. */
export function ceTypeOf(eventType: EventType): string {
  return `tributary.${getEventContract(eventType).domain}.${eventType}`;
}

/** What every record of one event type carries alike, derived from its contract once instead of per record. */
interface TypeConstants {
  readonly ceType: string;
  readonly dataschema: string;
  readonly version: number;
  readonly topic: string;
  readonly fingerprint: string;
}

const typeConstants = new Map<string, TypeConstants>();

function constantsOf(eventType: EventType): TypeConstants {
  let constants = typeConstants.get(eventType);
  if (constants === undefined) {
    const contract = getEventContract(eventType);
    constants = {
      ceType: ceTypeOf(eventType),
      dataschema: `${SCHEMA_URN_PREFIX}${contract.latest.fingerprintSha256}`,
      version: contract.latestVersion,
      topic: topicOf(eventType),
      fingerprint: contract.latest.fingerprintSha256,
    };
    typeConstants.set(eventType, constants);
  }
  return constants;
}

/**
 * Encodes an event into the record to send. Everything is checked before a byte leaves: the data
 * against its schema (ContractError naming every field), the source and the traceparent. Framed
 * (Confluent) when registry ids are given or installed, raw otherwise; content-type says which.
 */
export function toRecord<T extends EventType>(
  eventType: T,
  data: EventData<T> | EventInput<T>,
  options: PublishOptions,
): OutboundRecord {
  const constants = constantsOf(eventType);
  const schemaIds = options.schemaIds === undefined ? installedSchemaIds() : options.schemaIds;
  let value: Buffer;
  let contentType = CONTENT_TYPE_AVRO;
  if (schemaIds === null) {
    value = encodeEvent(eventType, data);
  } else {
    const schemaId = schemaIds.idOf(constants.fingerprint);
    // SchemaIdBook.of refuses a book without an id for every writer schema of this build.
    if (schemaId === undefined)
      throw new Error(`${eventType}: the schema id book has no id for ${constants.fingerprint}`);
    value = encodeEventAfter(CONFLUENT_PREFIX_BYTES, eventType, data);
    writeConfluentPrefix(value, schemaId);
    contentType = CONTENT_TYPE_AVRO_CONFLUENT;
  }
  assertEnvelopeOptions(eventType, constants.version, options);
  const key = eventKey(eventType, data as EventData<T>);
  const envelope: Envelope = {
    specversion: '1.0',
    id: (data as unknown as { eventId: string }).eventId,
    type: constants.ceType,
    source: options.source,
    time: (options.time ?? new Date()).toISOString(),
    subject: key,
    dataschema: constants.dataschema,
    schemaname: constants.ceType,
    schemaversion: constants.version,
    ...(options.traceparent ? { traceparent: options.traceparent } : {}),
  };
  const topic = options.topicPrefix ? `${options.topicPrefix}${constants.topic}` : constants.topic;
  return { topic, key, value, headers: envelopeHeaders(envelope, contentType), envelope };
}

function assertEnvelopeOptions(eventType: string, version: number, options: PublishOptions): void {
  const issues = [];
  if (!options.source || options.source.length > SOURCE_LENGTH_MAX || /\s/.test(options.source)) {
    issues.push({
      path: 'ce_source',
      rule: 'malformed' as const,
      message: `must be a URI reference of 1 to ${SOURCE_LENGTH_MAX} characters without spaces`,
    });
  }
  if (options.traceparent !== undefined && !TRACEPARENT.test(options.traceparent)) {
    issues.push({
      path: 'traceparent',
      rule: 'malformed' as const,
      message: 'must be a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>',
    });
  }
  if (options.time !== undefined && Number.isNaN(options.time.getTime())) {
    issues.push({ path: 'ce_time', rule: 'malformed' as const, message: 'must be a valid time' });
  }
  if (issues.length > 0) throw new ContractError(eventType, version, issues);
}

/** The headers of a record: its envelope, and the content-type of its value's framing (raw Avro unless told). */
export function envelopeHeaders(envelope: Envelope, contentType: string = CONTENT_TYPE_AVRO): Record<string, string> {
  return {
    [CE_HEADERS.specversion]: envelope.specversion,
    [CE_HEADERS.id]: envelope.id,
    [CE_HEADERS.type]: envelope.type,
    [CE_HEADERS.source]: envelope.source,
    [CE_HEADERS.time]: envelope.time,
    [CE_HEADERS.subject]: envelope.subject,
    [CE_HEADERS.dataschema]: envelope.dataschema,
    [CE_HEADERS.schemaname]: envelope.schemaname,
    [CE_HEADERS.schemaversion]: String(envelope.schemaversion),
    [CE_HEADERS.contentType]: contentType,
    ...(envelope.traceparent ? { [CE_HEADERS.traceparent]: envelope.traceparent } : {}),
  };
}

/**
 * A record read back: the event in the reader's (latest) shape, the version it was written with, its
 * envelope, the Avro body (the value without its framing: what an event id's content hash covers, alike
 * on both framings) and the registry id a framed record names (null on a raw one).
 */
export type DecodedRecord = TributaryEvent & {
  readonly writerVersion: number;
  readonly envelope: Envelope;
  readonly body: Buffer;
  readonly schemaId: number | null;
};

/**
 * Decodes a consumed record of either framing. The writer schema is found by the fingerprint in
 * ce_dataschema (on both framings: no registry needed), checked against ce_type, and resolved to the
 * newest reader; a framed value's prefix is checked (magic byte, length, and its id against the id
 * book when one is known) and stepped over without a copy. Anything that does not fit is a
 * ContractError that says why (a consumer sends the record to its DLQ with that reason).
 */
export function fromRecord(
  value: Buffer | null,
  headers: Readonly<Record<string, string | undefined>>,
  options: ReadOptions = {},
): DecodedRecord {
  const fail = (path: string, message: string): never => {
    throw new ContractError(headers[CE_HEADERS.type] ?? '(no ce_type)', undefined, [
      { path, rule: 'malformed', message },
    ]);
  };
  const framing = framingOf(headers[CE_HEADERS.contentType]);
  if (framing === null) fail(CE_HEADERS.contentType, `must be ${CONTENT_TYPE_AVRO} or ${CONTENT_TYPE_AVRO_CONFLUENT}`);
  const dataschema = headers[CE_HEADERS.dataschema] ?? '';
  if (!dataschema.startsWith(SCHEMA_URN_PREFIX)) fail(CE_HEADERS.dataschema, `must be ${SCHEMA_URN_PREFIX}<hex>`);
  const fingerprint = dataschema.slice(SCHEMA_URN_PREFIX.length).toLowerCase();
  const writer = findByFingerprint(fingerprint);
  if (!writer)
    return fail(CE_HEADERS.dataschema, 'names a schema this reader does not know: fetch it from the schema catalog');
  const ceType = constantsOf(writer.eventType).ceType;
  if (headers[CE_HEADERS.type] !== ceType)
    fail(CE_HEADERS.type, `does not match the schema in ce_dataschema (${ceType})`);
  if (!value) return fail('value', 'is empty');
  let body = value;
  let schemaId: number | null = null;
  if (framing === 'confluent') {
    const frame = readConfluentFrame(value, ceType, writer.version);
    const schemaIds = options.schemaIds === undefined ? installedSchemaIds() : options.schemaIds;
    const registered = schemaIds?.idOf(fingerprint);
    if (registered !== undefined && registered !== frame.schemaId)
      fail(
        'value',
        `names registry id ${frame.schemaId}, but the schema in ce_dataschema is registered as ${registered}`,
      );
    body = frame.body;
    schemaId = frame.schemaId;
  }
  const data = decodeEvent(writer.eventType, writer.version, body);
  return {
    type: writer.eventType,
    data,
    writerVersion: writer.version,
    envelope: readEnvelope(headers, writer.version),
    body,
    schemaId,
  } as DecodedRecord;
}

function readEnvelope(headers: Readonly<Record<string, string | undefined>>, version: number): Envelope {
  return {
    specversion: '1.0',
    id: headers[CE_HEADERS.id] ?? '',
    type: headers[CE_HEADERS.type] ?? '',
    source: headers[CE_HEADERS.source] ?? '',
    time: headers[CE_HEADERS.time] ?? '',
    subject: headers[CE_HEADERS.subject] ?? '',
    dataschema: headers[CE_HEADERS.dataschema] ?? '',
    schemaname: headers[CE_HEADERS.schemaname] ?? '',
    schemaversion: version,
    ...(headers[CE_HEADERS.traceparent] ? { traceparent: headers[CE_HEADERS.traceparent] } : {}),
  };
}
