// The HTTP wire format of an event: JSON in the shape of its Avro schema. JSON has no 64-bit integer, so
// every Avro `long` (amounts, sizes, timestamps) is accepted as a JSON integer when it is a safe
// integer (|n| <= 2^53 - 1), or as a decimal string ("1000000") for any int64; both become a bigint
// before validation, so money is never a float, not even for a moment. Nullable fields with a null
// default may be omitted. Anything else is left as sent, and the schema validation names it.
import {
  getEventContract,
  internalEventTypeRule,
  isEventType,
  isInternalEventType,
  PRODUCER_EVENT_TYPES,
  type EventType,
  type EventVersionContract,
  type ProducerEventType,
} from '@tributary/contracts';

type RecordNode = EventVersionContract['tree'];
type FieldNode = RecordNode['fields'][number];
type SchemaNode = FieldNode['type'];

const LONG_STRING = /^-?(0|[1-9][0-9]{0,18})$/;

/**
 * The event types the gateway accepts: those producers publish (EVENT_PUBLISHERS in the contracts).
 * Decisions and payouts are written straight to Kafka by the one service that makes them, so the
 * gateway refuses them, and neither its OpenAPI document nor an API key scope offers them.
 */
export const GATEWAY_EVENT_TYPES: readonly ProducerEventType[] = PRODUCER_EVENT_TYPES;

export function isGatewayEventType(candidate: unknown): candidate is ProducerEventType {
  return typeof candidate === 'string' && (GATEWAY_EVENT_TYPES as readonly string[]).includes(candidate);
}

export interface EventTypeRefusal {
  readonly rule: 'internalEventType' | 'unknownEventType';
  readonly message: string;
}

/**
 * Why the gateway refuses a type it does not accept. A type that one service alone publishes is named
 * with that service, so a caller learns it is not a typo they can fix but a type they may not send.
 */
export function eventTypeRefusal(candidate: unknown): EventTypeRefusal {
  if (typeof candidate === 'string' && isEventType(candidate) && isInternalEventType(candidate)) {
    return { rule: 'internalEventType', message: `${internalEventTypeRule(candidate)}, never through the gateway` };
  }
  return { rule: 'unknownEventType', message: 'must be an event type producers publish (see GET /docs)' };
}

/** The event value to validate and encode, from the JSON body of one event. */
export function fromWire(eventType: EventType, body: unknown): unknown {
  return convertRecord(getEventContract(eventType).latest.tree, body);
}

function convertRecord(record: RecordNode, value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const converted: Record<string, unknown> = { ...value };
  for (const field of record.fields) {
    if (!(field.name in value) && field.hasDefault && isNullable(field.type)) converted[field.name] = null;
    else if (field.name in value) converted[field.name] = convertNode(field.type, value[field.name]);
  }
  return converted;
}

function convertNode(node: SchemaNode, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (node.kind) {
    case 'primitive':
      return node.name === 'long' ? toLong(value) : value;
    case 'record':
      return convertRecord(node, value);
    case 'array':
      return Array.isArray(value) ? value.map((item) => convertNode(node.items, item)) : value;
    case 'map':
      return isPlainObject(value)
        ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key, convertNode(node.values, item)]))
        : value;
    case 'union': {
      const present = node.branches.filter((branch) => !(branch.kind === 'primitive' && branch.name === 'null'));
      return present.length === 1 ? convertNode(present[0]!, value) : value;
    }
    case 'enum':
    case 'fixed':
      return value;
  }
}

function toLong(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && LONG_STRING.test(value)) return BigInt(value);
  return value;
}

function isNullable(node: SchemaNode): boolean {
  return node.kind === 'union' && node.branches.some((branch) => branch.kind === 'primitive' && branch.name === 'null');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
