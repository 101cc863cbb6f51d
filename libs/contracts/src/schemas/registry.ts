// The runtime catalog of event contracts: for each event type its topic, key field and every
// version's parsed avsc Type and fingerprint. Built from the generated schemas (not from schemas/ on
// disk) so a deployed service needs no source files; each fingerprint is recomputed at load, and a
// mismatch means the generated file was edited by hand, so we crash rather than encode with it.
import type { Type } from 'avsc';
import { fingerprintSha256, parseAvroType } from './avro-type';
import { ContractError } from './contract-error';
import { GENERATED_EVENT_SCHEMAS, type GeneratedEventSchema } from './generated/event-schemas';
import {
  EVENT_TYPES,
  type EventType,
  type EventVersionMap,
  type LatestEventDefaultedFields,
  type LatestEventMap,
} from './generated/event-types';
import { type JsonObject, parseRecordTree, type RecordNode } from './schema-tree';

/** The value shape of the latest version of an event type. */
export type EventData<T extends EventType> = LatestEventMap[T];
/**
 * What a producer writes for the latest version of an event type: the fields with a schema default may
 * be left out, and the codec writes their default (so a producer written before a field was added keeps
 * compiling and sends the same fact). Readers always get EventData, every field present.
 */
export type EventInput<T extends EventType> = T extends EventType
  ? Omit<EventData<T>, LatestEventDefaultedFields[T]> &
      Partial<Pick<EventData<T>, Extract<LatestEventDefaultedFields[T], keyof EventData<T>>>>
  : never;
/** The version numbers an event type has. */
export type EventVersion<T extends EventType> = keyof EventVersionMap[T] & number;
/** The value shape of one version of an event type. */
export type EventDataAt<T extends EventType, V extends EventVersion<T>> = EventVersionMap[T][V];

export interface EventVersionContract {
  readonly version: number;
  readonly avroType: Type;
  /** SHA-256 of the schema's Parsing Canonical Form, lowercase hex. */
  readonly fingerprintSha256: string;
  /** The assembled schema with docs and `tributary.*` attributes, as published to consumers. */
  readonly schema: JsonObject;
  readonly tree: RecordNode;
}

export interface EventContract<T extends EventType = EventType> {
  readonly eventType: T;
  readonly domain: string;
  readonly topic: string;
  /** Field whose value is the Kafka record key. */
  readonly keyField: string;
  readonly latestVersion: number;
  readonly latest: EventVersionContract;
  readonly versions: ReadonlyMap<number, EventVersionContract>;
}

function buildContract(generated: GeneratedEventSchema): EventContract {
  const versions = new Map<number, EventVersionContract>();
  for (const version of generated.versions) {
    const avroType = parseAvroType(version.schema);
    const fingerprint = fingerprintSha256(avroType);
    if (fingerprint !== version.fingerprintSha256) {
      throw new Error(
        `${generated.eventType} v${version.version}: generated fingerprint is stale; run npm run contracts:generate`,
      );
    }
    versions.set(version.version, {
      version: version.version,
      avroType,
      fingerprintSha256: fingerprint,
      schema: version.schema,
      tree: parseRecordTree(version.schema),
    });
  }
  const latest = versions.get(generated.latestVersion);
  if (latest === undefined)
    throw new Error(`${generated.eventType}: latest version ${generated.latestVersion} missing`);
  return { ...generated, eventType: generated.eventType as EventType, latest, versions };
}

const CONTRACTS: ReadonlyMap<string, EventContract> = new Map(
  GENERATED_EVENT_SCHEMAS.map((generated) => [generated.eventType, buildContract(generated)]),
);

const CONTRACTS_BY_FINGERPRINT: ReadonlyMap<string, { eventType: EventType; version: number }> = new Map(
  [...CONTRACTS.values()].flatMap((contract) =>
    [...contract.versions.values()].map(
      (version) => [version.fingerprintSha256, { eventType: contract.eventType, version: version.version }] as const,
    ),
  ),
);

export function isEventType(candidate: string): candidate is EventType {
  return (EVENT_TYPES as readonly string[]).includes(candidate);
}

/** The contract of an event type; a ContractError (rule `unknownEventType`) for any other string. */
export function getEventContract<T extends EventType>(eventType: T): EventContract<T>;
export function getEventContract(eventType: string): EventContract;
export function getEventContract(eventType: string): EventContract {
  const contract = CONTRACTS.get(eventType);
  if (contract === undefined) {
    throw new ContractError(eventType, undefined, [
      { path: '', rule: 'unknownEventType', message: `unknown event type; known types: ${EVENT_TYPES.join(', ')}` },
    ]);
  }
  return contract;
}

/** One version of an event type; a ContractError (rule `unknownVersion`) when it does not exist. */
export function getEventVersion(eventType: string, version: number): EventVersionContract {
  const contract = getEventContract(eventType);
  const found = contract.versions.get(version);
  if (found === undefined) {
    throw new ContractError(eventType, version, [
      {
        path: '',
        rule: 'unknownVersion',
        message: `unknown schema version; known versions: ${[...contract.versions.keys()].join(', ')}`,
      },
    ]);
  }
  return found;
}

export function listEventContracts(): readonly EventContract[] {
  return [...CONTRACTS.values()];
}

/** Which event type and version a schema fingerprint (as carried in a record header) belongs to. */
export function findByFingerprint(
  fingerprintSha256Hex: string,
): { readonly eventType: EventType; readonly version: number } | undefined {
  return CONTRACTS_BY_FINGERPRINT.get(fingerprintSha256Hex.toLowerCase());
}

/** The Kafka topic an event type is published to. */
export function topicOf(eventType: EventType): string {
  return getEventContract(eventType).topic;
}

/** The Kafka record key of an event: the value of its type's key field. */
export function eventKey<T extends EventType>(eventType: T, data: EventData<T>): string {
  const key = (data as unknown as Record<string, unknown>)[getEventContract(eventType).keyField];
  if (typeof key !== 'string') throw new Error(`${eventType}: key field is not a string`);
  return key;
}
