/**
 * The topic catalog: every topic Tributary reads or writes, in one place, with the configs it is
 * created with. Start-up creates these idempotently (libs/messaging ensureTopics) and deploy/ renders the
 * same catalog as Strimzi KafkaTopic manifests, so the cluster and the code cannot disagree.
 */

/** An optional prefix lets several environments share one cluster ("staging." → "staging.tributary.inferences"). */
export function topicPrefix(env: NodeJS.ProcessEnv = process.env): string {
  const prefix = env.TRIBUTARY_TOPIC_PREFIX ?? '';
  if (!/^[A-Za-z0-9._-]{0,100}$/.test(prefix)) {
    throw new RangeError('TRIBUTARY_TOPIC_PREFIX: must be at most 100 letters, digits, ".", "_" or "-"');
  }
  return prefix;
}

export type TopicRole = 'event' | 'decision' | 'catalog' | 'dead-letter';

export interface TopicSpec {
  readonly name: string;
  readonly role: TopicRole;
  /** The record key: the entity id every event of the topic is about, so one entity's events stay in order. */
  readonly keyField: string;
  readonly partitions: number;
  readonly doc: string;
  readonly config: Readonly<Record<string, string>>;
}

/** Event topics are the system of record: kept forever, never compacted away. */
const KEEP_FOREVER = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' } as const;
const EVENT_PARTITIONS = 6;

/** The whole catalog for one prefix; a process uses its own prefix (TOPICS), a test may build another. */
export function catalogFor(prefix: string) {
  const spec = (base: string, role: TopicRole, keyField: string, doc: string): TopicSpec => ({
    name: `${prefix}${base}`,
    role,
    keyField,
    partitions: EVENT_PARTITIONS,
    doc,
    config: KEEP_FOREVER,
  });
  const topics = {
    datanets: spec('tributary.datanets', 'event', 'datanetId', 'Datanets created and updated.'),
    contributions: spec('tributary.contributions', 'event', 'contributionId', 'Contributions submitted, validated and revoked.'),
    models: spec('tributary.models', 'event', 'modelId', 'Models registered and retired, with their fee split.'),
    inferences: spec('tributary.inferences', 'event', 'inferenceId', 'Paid inferences with their attribution scores.'),
    attributions: spec('tributary.attributions', 'decision', 'inferenceId', 'One InferenceAttributed decision per paid inference.'),
    payouts: spec('tributary.payouts', 'event', 'accountId', 'Payouts requested, settled and failed.'),
    schemas: {
      name: `${prefix}tributary.schemas`,
      role: 'catalog',
      keyField: 'fingerprint',
      partitions: 1,
      doc: 'Every Avro writer schema, keyed by its SHA-256 fingerprint; compacted, so it holds each schema once.',
      config: { 'cleanup.policy': 'compact', 'retention.ms': '-1', 'min.compaction.lag.ms': '0' },
    },
  } as const satisfies Record<string, TopicSpec>;
  /** Consumer groups, named exactly as Kafka's tools will show them; each has a DLQ topic of its own. */
  const groups = {
    attribution: `${prefix}tributary.attribution`,
    /** The attribution service's table consumer (datanets, contributions, models): `<attribution group>.tables`. */
    attributionTables: `${prefix}tributary.attribution.tables`,
    ledgerProjector: `${prefix}tributary.ledger-projector`,
    payouts: `${prefix}tributary.payouts`,
  } as const;
  return { prefix, topics, groups };
}

const PROCESS_CATALOG = catalogFor(topicPrefix());
export const TOPICS = PROCESS_CATALOG.topics;
export const CONSUMER_GROUPS = PROCESS_CATALOG.groups;

/** The DLQ of a consumer group: one per group, so an operator knows who gave up on a record. */
export function deadLetterTopicName(groupId: string): string {
  return `${groupId}.dlq`;
}

export function deadLetterTopicSpec(groupId: string): TopicSpec {
  return {
    name: deadLetterTopicName(groupId),
    role: 'dead-letter',
    keyField: '(the source record key)',
    partitions: 1,
    doc: `Records consumer group ${groupId} could not apply, with the reason and source in dlq_* headers.`,
    config: KEEP_FOREVER,
  };
}

/** Everything to create: the topics, then one DLQ per consumer group. */
export function topicCatalog(catalog: ReturnType<typeof catalogFor> = PROCESS_CATALOG): TopicSpec[] {
  return [...Object.values(catalog.topics), ...Object.values(catalog.groups).map(deadLetterTopicSpec)];
}
