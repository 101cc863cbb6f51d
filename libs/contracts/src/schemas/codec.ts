// Binary Avro codecs for Tributary events. Encoding validates first and refuses with every offending
// field at once (the gateway returns them to the caller); decoding resolves any known writer version
// to the latest reader and checks the result against the same limits, because a value is checked on
// both sides of a boundary: a producer that skipped our encoder must not slip a bad value through.
import type { Resolver, Type } from 'avsc';
import { ContractError, type ContractIssue } from './contract-error';
import type { EventType } from './generated/event-types';
import {
  type EventData,
  type EventDataAt,
  type EventInput,
  type EventVersion,
  type EventVersionContract,
  getEventContract,
  getEventVersion,
} from './registry';
import { limitsHold, validateLimits, validateValue } from './validation';

/** Every problem with `value` as version `version` of `eventType` (latest when omitted); empty when valid. */
export function validateEvent(eventType: string, value: unknown, version?: number): readonly ContractIssue[] {
  const contract = version === undefined ? getEventContract(eventType).latest : getEventVersion(eventType, version);
  return validateValue(contract.avroType, contract.tree, value);
}

/** Encodes the latest version of an event (fields with a default may be left out). Throws ContractError listing every invalid field. */
export function encodeEvent<T extends EventType>(eventType: T, data: EventData<T> | EventInput<T>): Buffer;
/** Encodes a given version of an event (for producers that have not upgraded yet). */
export function encodeEvent<T extends EventType, V extends EventVersion<T>>(
  eventType: T,
  version: V,
  data: EventDataAt<T, V>,
): Buffer;
export function encodeEvent(eventType: string, versionOrData: unknown, maybeData?: unknown): Buffer {
  const explicitVersion = typeof versionOrData === 'number';
  const contract = explicitVersion ? getEventVersion(eventType, versionOrData) : getEventContract(eventType).latest;
  return encodeWith(eventType, contract, explicitVersion ? maybeData : versionOrData, 0);
}

/**
 * Encodes the latest version of an event into a buffer whose first `headroom` bytes are left for the
 * caller (toRecord writes the Confluent prefix there), so a framed record is copied once, not twice.
 * The same checks and errors as encodeEvent; the bytes after the headroom are encodeEvent's.
 */
export function encodeEventAfter<T extends EventType>(
  headroom: number,
  eventType: T,
  data: EventData<T> | EventInput<T>,
): Buffer {
  return encodeWith(eventType, getEventContract(eventType).latest, data, headroom);
}

function encodeWith(eventType: string, contract: EventVersionContract, data: unknown, headroom: number): Buffer {
  // Fast path: avsc's writer checks every type as it writes (it throws on a value isValid would
  // refuse), so a value within its limits that writes without error is valid and needs no second walk.
  if (limitsHold(contract.tree, data)) {
    const buffer = tryToBuffer(contract, data, headroom);
    if (buffer !== undefined) return buffer;
  }
  const issues = validateValue(contract.avroType, contract.tree, data);
  if (issues.length > 0) throw new ContractError(eventType, contract.version, issues);
  return toBuffer(contract.avroType, data, headroom);
}

function tryToBuffer(contract: EventVersionContract, data: unknown, headroom: number): Buffer | undefined {
  try {
    return toBuffer(contract.avroType, data, headroom);
  } catch {
    // Explained (or rethrown) by the full validation below.
    return undefined;
  }
}

/** Where records are written before they are copied out at their exact size; grows to the largest record seen. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The same bytes as avsc's `type.toBuffer(value)`, without its zero-filled allocation per record: the
 * value is written into a reused scratch buffer and copied into one from Node's pool (records are small),
 * after `headroom` bytes left unwritten for the caller.
 */
function toBuffer(type: Type, value: unknown, headroom: number): Buffer {
  let end = type.encode(value, scratch, 0);
  if (end < 0) {
    // avsc returns minus the missing byte count when the buffer is too small.
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
    end = type.encode(value, scratch, 0);
  }
  const buffer = Buffer.allocUnsafe(headroom + end);
  scratch.copy(buffer, headroom, 0, end);
  return buffer;
}

/**
 * Decodes a record written with version `writerVersion` into the latest version's shape. Garbage,
 * truncated or trailing bytes, and decoded values that break a limit all throw ContractError.
 */
export function decodeEvent<T extends EventType>(eventType: T, writerVersion: number, buffer: Buffer): EventData<T> {
  const writer = getEventVersion(eventType, writerVersion);
  const reader = getEventContract(eventType).latest;
  const value = decodeWith(eventType, writer, reader, buffer);
  const issues = validateLimits(reader.tree, value);
  if (issues.length > 0) throw new ContractError(eventType, writerVersion, issues);
  return value as EventData<T>;
}

function decodeWith(
  eventType: string,
  writer: EventVersionContract,
  reader: EventVersionContract,
  buffer: Buffer,
): unknown {
  try {
    return reader.avroType.fromBuffer(buffer, resolverFor(eventType, writer, reader));
  } catch (error) {
    throw new ContractError(eventType, writer.version, [
      { path: '', rule: 'malformed', message: `not a valid v${writer.version} record: ${(error as Error).message}` },
    ]);
  }
}

const resolvers = new Map<string, Resolver>();

/** Resolvers are costly to build and pure, so one per (event type, writer version) is cached. */
function resolverFor(
  eventType: string,
  writer: EventVersionContract,
  reader: EventVersionContract,
): Resolver | undefined {
  if (writer === reader) return undefined;
  const cacheKey = `${eventType}/${writer.version}`;
  let resolver = resolvers.get(cacheKey);
  if (resolver === undefined) {
    resolver = reader.avroType.createResolver(writer.avroType);
    resolvers.set(cacheKey, resolver);
  }
  return resolver;
}
