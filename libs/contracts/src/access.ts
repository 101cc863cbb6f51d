/**
 * The access catalog: every Kafka principal Tributary knows and exactly what each may do, beside the
 * topic catalog it is derived from. The provisioner renders it to the broker's ACLs at start-up,
 * deploy/kubernetes to Strimzi KafkaUser manifests, and Kafka's own `kafka-acls --list` reads the result.
 * Least privilege: nobody but the attribution service writes decisions, nobody but the payouts service
 * writes payout events and funding events (the treasury's deposits and chargebacks, which the payouts
 * service publishes for the operator), and analytics readers write nothing.
 */
import { type catalogFor, deadLetterTopicName } from './topics';
import { PRODUCER_EVENT_TYPES, internalEventTypeRule, isInternalEventType } from './publishers';
import { EVENT_TYPES, topicOf, type EventType } from './schemas';

export type AclResourceType = 'topic' | 'group' | 'transactional-id';
export type AclPatternType = 'literal' | 'prefixed';
/**
 * Kafka's ACL operations that Tributary grants; DESCRIBE comes with each so clients can find metadata.
 * DESCRIBE_CONFIGS lets a service check the topic configuration a guarantee of its rests on.
 */
export type AclOperation = 'read' | 'write' | 'describe' | 'describe-configs';

export interface AclGrant {
  readonly resourceType: AclResourceType;
  readonly pattern: AclPatternType;
  readonly name: string;
  readonly operations: readonly AclOperation[];
}

/** The services, each with a principal of its own. */
export const SERVICE_PRINCIPALS = ['gateway', 'attribution', 'ledger-projector', 'payouts', 'ledger-api'] as const;
export type ServicePrincipal = (typeof SERVICE_PRINCIPALS)[number];
/** The super user of the cluster: the provisioner, the operator's CLIs and resets. Holds no ACL. */
export const OPERATOR_PRINCIPAL = 'operator';

export type PrincipalRole = 'service' | 'producer' | 'analytics' | 'operator';

export interface PrincipalSpec {
  readonly name: string;
  readonly role: PrincipalRole;
  readonly doc: string;
  readonly grants: readonly AclGrant[];
}

type Catalog = ReturnType<typeof catalogFor>;

const READ: readonly AclOperation[] = ['read', 'describe'];
const WRITE: readonly AclOperation[] = ['write', 'describe'];
const DESCRIBE: readonly AclOperation[] = ['describe'];

const topic = (name: string, operations: readonly AclOperation[]): AclGrant => ({
  resourceType: 'topic',
  pattern: 'literal',
  name,
  operations,
});
const topics = (names: readonly string[], operations: readonly AclOperation[]) =>
  names.map((name) => topic(name, operations));
const prefixed = (resourceType: AclResourceType, name: string, operations: readonly AclOperation[]): AclGrant => ({
  resourceType,
  pattern: 'prefixed',
  name,
  operations,
});

/** The input topics: what producers publish, directly or through the gateway. */
export function inputTopics(catalog: Catalog): string[] {
  const { datanets, contributions, models, inferences } = catalog.topics;
  return [datanets.name, contributions.name, models.name, inferences.name];
}

/** Every topic that carries events, decisions included: what analytics reads. */
export function eventTopics(catalog: Catalog): string[] {
  return [
    ...inputTopics(catalog),
    catalog.topics.attributions.name,
    catalog.topics.payouts.name,
    catalog.topics.funding.name,
  ];
}

/** The consumer group ledger-api's explain reads one record with; it never commits an offset. */
export function ledgerApiReaderGroupPrefix(catalog: Catalog): string {
  return `${catalog.prefix}tributary.ledger-api.reader.`;
}

/** The gateway's transactional ids (`<prefix>tributary.gateway.<instance>.tx-<slot>`). */
export function gatewayTransactionalIdPrefix(catalog: Catalog): string {
  return `${catalog.prefix}tributary.gateway.`;
}

/** What each service may do. A `switch` with a `never` check, so a new service cannot go ungranted. */
export function serviceGrants(service: ServicePrincipal, catalog: Catalog): AclGrant[] {
  const { topics: t, groups } = catalog;
  switch (service) {
    case 'gateway':
      return [
        ...topics([...inputTopics(catalog), t.schemas.name], WRITE),
        prefixed('transactional-id', gatewayTransactionalIdPrefix(catalog), WRITE),
      ];
    case 'attribution':
      return [
        ...topics(inputTopics(catalog), READ),
        // Its join rule compares the broker's append times: it checks at start-up that the topics it joins
        // are message.timestamp.type=LogAppendTime, and refuses to start when one is not.
        ...topics(inputTopics(catalog), ['describe-configs']),
        ...topics(
          [t.attributions.name, deadLetterTopicName(groups.attribution), deadLetterTopicName(groups.attributionTables)],
          WRITE,
        ),
        // The decider's group, its table consumer's group (`<group>.tables`) and its transactional ids.
        prefixed('group', groups.attribution, ['read', 'describe']),
        prefixed('transactional-id', groups.attribution, WRITE),
      ];
    case 'ledger-projector':
      return [
        // Funding: the producers' deposits and chargebacks that back their fees (read by the backed-credit fold).
        ...topics([t.attributions.name, t.payouts.name, t.funding.name], READ),
        // Its DLQ: written live, read by a rebuild, which refuses what live refused.
        topic(deadLetterTopicName(groups.ledgerProjector), ['read', 'write', 'describe']),
        // The live group and the rebuild's groups (`<group>.rebuild.<schema>`).
        prefixed('group', groups.ledgerProjector, ['read', 'describe']),
      ];
    case 'payouts':
      // Payout events, and the treasury's funding events (deposits, chargebacks) it publishes for the operator.
      return [topic(t.payouts.name, WRITE), topic(t.funding.name, WRITE)];
    case 'ledger-api':
      return [
        // Explain reads a decision at a known position; freshness and lag read offsets only.
        topic(t.attributions.name, READ),
        ...topics([t.inferences.name, t.payouts.name], DESCRIBE),
        // The status's DLQ depth reads every group's DLQ: dead letters and the operator's re-drive markers.
        ...topics(Object.values(groups).map(deadLetterTopicName), READ),
        { resourceType: 'group', pattern: 'literal', name: groups.attribution, operations: DESCRIBE },
        prefixed('group', ledgerApiReaderGroupPrefix(catalog), ['read']),
      ];
    default: {
      const unhandled: never = service;
      throw new Error(`no grants for service ${String(unhandled)}`);
    }
  }
}

export function servicePrincipals(catalog: Catalog): PrincipalSpec[] {
  return SERVICE_PRINCIPALS.map((name) => ({
    name,
    role: 'service',
    doc: `The ${name} service.`,
    grants: serviceGrants(name, catalog),
  }));
}

/** A grant the operator asked for that the catalog refuses, with the rule it breaks. */
export class AccessRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccessRuleError';
  }
}

/**
 * A direct producer's grants: write access to the topics of the event types it was granted, and its own
 * transactional ids. Kafka authorizes per topic, not per event type, so a grant of one type on a topic
 * that carries others would let the producer publish those too; such a grant is refused until it names
 * every type of the topic (or the producer uses the gateway, which checks each type).
 */
export function producerPrincipal(name: string, eventTypes: readonly string[], catalog: Catalog): PrincipalSpec {
  if (eventTypes.length === 0) throw new AccessRuleError('a producer needs at least one event type');
  const unknown = eventTypes.filter((type) => !(EVENT_TYPES as readonly string[]).includes(type));
  if (unknown.length > 0)
    throw new AccessRuleError(
      `${unknown.join(', ')}: not an event type; grantable are ${PRODUCER_EVENT_TYPES.join(', ')}`,
    );
  const internal = (eventTypes as readonly EventType[]).filter(isInternalEventType);
  if (internal.length > 0)
    throw new AccessRuleError(`${internal.map(internalEventTypeRule).join('; ')}: not grantable to a producer`);
  const granted = new Set(eventTypes);
  const baseTopics = [...new Set(eventTypes.map((type) => topicOf(type as EventType)))].sort();
  for (const base of baseTopics) {
    const sharing = PRODUCER_EVENT_TYPES.filter((type) => topicOf(type) === base && !granted.has(type));
    if (sharing.length > 0) {
      throw new AccessRuleError(
        `${base} also carries ${sharing.join(', ')}: Kafka authorizes per topic, so grant those too or publish through the gateway`,
      );
    }
  }
  const { prefix } = catalog;
  return {
    name,
    role: 'producer',
    doc: `A direct producer of ${[...granted].sort().join(', ')}.`,
    grants: [
      ...topics(
        baseTopics.map((base) => `${prefix}${base}`),
        WRITE,
      ),
      prefixed('transactional-id', `${prefix}producer.${name}.`, WRITE),
    ],
  };
}

/** An analytics reader: every event topic and the schema catalog; consumer groups under `analytics.<name>.`. */
export function analyticsPrincipal(name: string, catalog: Catalog): PrincipalSpec {
  return {
    name,
    role: 'analytics',
    doc: 'An analytics reader: reads every event topic and the schema catalog, writes nothing.',
    grants: [
      ...topics([...eventTopics(catalog), catalog.topics.schemas.name], READ),
      prefixed('group', analyticsGroupPrefix(name, catalog), ['read']),
    ],
  };
}

/** The prefix an analytics reader's consumer groups must start with. */
export function analyticsGroupPrefix(name: string, catalog: Catalog): string {
  return `${catalog.prefix}analytics.${name}.`;
}
