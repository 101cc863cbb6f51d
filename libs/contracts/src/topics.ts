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

/**
 * The largest record batch (one record alone, in the worst case) a topic takes: its `max.message.bytes`,
 * stated on every topic rather than left to the broker's default, so the writers can measure against it
 * (libs/contracts record-size.ts) and never meet MESSAGE_TOO_LARGE.
 *
 * 1 MiB for every event topic, the decision topic and the schema catalog. The schemas' limits make every
 * accepted input event smaller: the largest, an InferenceCompleted at its limits (1,000 attributions, every
 * id 256 UTF-16 code units of three UTF-8 bytes each), is about 0.78 MB with its headers
 * (record-size.spec.ts checks each event type's bound). A decision can be larger than its inference: it
 * repeats each attribution with what the tables knew of it (datanet, contributor) and lists the rejected
 * ones again, so its worst case is several MB. The limit is not raised to carry that: the attribution
 * service measures each decision and dead-letters one that would not fit (`decision-too-large`), which
 * only an inference with hundreds of attributions to ids hundreds of bytes long can produce, and every
 * reader of the decision topic keeps fetching 1 MiB records.
 */
export const RECORD_BYTES_MAX = 1_048_576;

/**
 * What a dead letter adds to the record it carries: the dlq_* headers (a reason of at most 1,024 UTF-16
 * code units is at most 3 KiB) and the re-drive marks, with room to spare. A DLQ topic takes the largest
 * record of any topic plus this, so every record a consumer gives up on can be dead-lettered.
 */
export const DEAD_LETTER_HEADROOM_BYTES = 65_536;
export const DEAD_LETTER_RECORD_BYTES_MAX = RECORD_BYTES_MAX + DEAD_LETTER_HEADROOM_BYTES;

const MAX_MESSAGE_BYTES = 'max.message.bytes';

/**
 * The topics the attribution service joins (the tables and the inferences) are stamped by the broker
 * when it appends a record, whatever timestamp the producer set: the join rule compares these times
 * (as-of-append-time/v2, libs/attribution ordering.ts), so no producer's clock can place a table record
 * before or after an inference. Topics created before carry CreateTime until the operator alters them.
 */
const BROKER_TIME = { 'message.timestamp.type': 'LogAppendTime' } as const;

/** The whole catalog for one prefix; a process uses its own prefix (TOPICS), a test may build another. */
export function catalogFor(prefix: string) {
  const spec = (base: string, role: TopicRole, keyField: string, doc: string, config = {}): TopicSpec => ({
    name: `${prefix}${base}`,
    role,
    keyField,
    partitions: EVENT_PARTITIONS,
    doc,
    config: { ...KEEP_FOREVER, [MAX_MESSAGE_BYTES]: String(RECORD_BYTES_MAX), ...config },
  });
  const topics = {
    datanets: spec('tributary.datanets', 'event', 'datanetId', 'Datanets created and updated.', BROKER_TIME),
    contributions: spec(
      'tributary.contributions',
      'event',
      'contributionId',
      'Contributions submitted, validated and revoked.',
      BROKER_TIME,
    ),
    models: spec(
      'tributary.models',
      'event',
      'modelId',
      'Models registered and retired, with their fee split.',
      BROKER_TIME,
    ),
    inferences: spec(
      'tributary.inferences',
      'event',
      'inferenceId',
      'Paid inferences with their attribution scores.',
      BROKER_TIME,
    ),
    attributions: spec(
      'tributary.attributions',
      'decision',
      'inferenceId',
      'One InferenceAttributed decision per paid inference.',
    ),
    payouts: spec('tributary.payouts', 'event', 'accountId', 'Payouts requested, settled and failed.'),
    funding: spec(
      'tributary.funding',
      'event',
      'producer',
      'Money inference producers paid in to the treasury, and its reversals (chargebacks); written by the treasury (payouts service) only.',
    ),
    schemas: {
      name: `${prefix}tributary.schemas`,
      role: 'catalog',
      keyField: 'fingerprint',
      partitions: 1,
      doc: 'Every Avro writer schema, keyed by its SHA-256 fingerprint; compacted, so it holds each schema once.',
      config: {
        'cleanup.policy': 'compact',
        'retention.ms': '-1',
        'min.compaction.lag.ms': '0',
        [MAX_MESSAGE_BYTES]: String(RECORD_BYTES_MAX),
      },
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
    config: { ...KEEP_FOREVER, [MAX_MESSAGE_BYTES]: String(DEAD_LETTER_RECORD_BYTES_MAX) },
  };
}

/** Everything to create: the topics, then one DLQ per consumer group. */
export function topicCatalog(catalog: ReturnType<typeof catalogFor> = PROCESS_CATALOG): TopicSpec[] {
  return [...Object.values(catalog.topics), ...Object.values(catalog.groups).map(deadLetterTopicSpec)];
}

/** A topic's max.message.bytes as the catalog states it. */
export function maxMessageBytes(spec: TopicSpec): number {
  const value = Number(spec.config[MAX_MESSAGE_BYTES]);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new RangeError(`${spec.name}: the catalog states no ${MAX_MESSAGE_BYTES}`);
  return value;
}

const UNPREFIXED = catalogFor('');
const MAX_MESSAGE_BYTES_BY_TOPIC: ReadonlyMap<string, number> = new Map(
  Object.values(UNPREFIXED.topics).map((spec) => [spec.name, maxMessageBytes(spec)]),
);

/** The max.message.bytes of a catalog topic by its unprefixed name (an event type's topic, as the contracts name it). */
export function topicMaxMessageBytes(unprefixedName: string): number {
  const value = MAX_MESSAGE_BYTES_BY_TOPIC.get(unprefixedName);
  if (value === undefined) throw new RangeError(`${unprefixedName} is not a topic of the catalog`);
  return value;
}
