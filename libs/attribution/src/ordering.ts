import type { EntityVersion, PartitionProgress } from './state';

/**
 * The cross-topic ordering rules (join rules). Kafka orders records only within a partition, so "the state
 * when the inference happened" has to be defined, or every replay could interleave the topics
 * differently. Both rules read, in every table partition, the longest prefix whose record timestamps are
 * all at most an instant asOfMs derived from the inference's record timestamp T (the versions with
 * visibleFromMs <= asOfMs), and wait, bounded, until that prefix is closed in every table partition: the
 * partition's fold has passed a record timestamped late enough, or it has consumed everything up to an
 * end offset observed late enough, or up to the first record the broker holds stamped late enough
 * (TablesObservation). The prefix is a function of the log alone, so every replay decides
 * the same, as long as no record appended after the closing moment is timestamped at or before asOfMs.
 *
 * "as-of-record-time/v1" (decisions until issue 25): T is the producer's own timestamp (CreateTime) and
 * asOfMs = T. A partition is closed by a record timestamped above T, or by an end offset observed at
 * least graceMs after T: producers are trusted to publish within graceMs, and a producer's clock places
 * its table record before or after an inference at will.
 *
 * "as-of-append-time/v2": the table and inference topics are `message.timestamp.type=LogAppendTime`, so T
 * and every table timestamp are the broker's append times, whatever the producers' clocks say. The
 * inference reads the table state as of the millisecond before it was appended (asOfMs = T - 1): a table
 * record appended after it is never seen, and one appended in an earlier millisecond always is (within
 * one millisecond the broker's time cannot tell them apart, and the rule sides with not seeing). The
 * grace bounds only the clock skew between the brokers and the decider's host (0 on one broker with the
 * decider on its machine): a partition is closed by a record stamped at least T + graceMs (a later leader
 * stamps no earlier than T), or by an end offset observed at T + graceMs or later.
 */
export type JoinRuleName = 'as-of-record-time/v1' | 'as-of-append-time/v2';

export interface JoinRule {
  readonly name: JoinRuleName;
  /** InferenceAttributed.orderingRule of a decision made under this rule (with the rounding rule). */
  readonly text: string;
  /** One line for `explain`: what the decision's table state was as of. */
  readonly explanation: string;
  /** The instant whose table state an inference with record timestamp T is decided with. */
  asOfMs(inferenceTimestampMs: number): number;
  /** A partition whose watermark reached this has closed the as-of prefix. */
  closedByRecordAtMs(asOfMs: number, graceMs: number): number;
  /** An end-offset observation made (on the decider's clock) at or after this closes a partition read up to it. */
  closedByObservationAtMs(asOfMs: number, graceMs: number): number;
}

const ROUNDING_TEXT = 'rounding: largest-remainder, ties by accountId ascending; join: ';

export const JOIN_RULES: Readonly<Record<JoinRuleName, JoinRule>> = {
  'as-of-record-time/v1': {
    name: 'as-of-record-time/v1',
    text: `${ROUNDING_TEXT}as-of-record-time/v1 (table state as of the inference record timestamp, after every table partition passed it)`,
    explanation:
      "Join as-of-record-time/v1: the tables as of the inference record's timestamp as its producer set it (CreateTime), after every table partition passed it.",
    asOfMs: (timestampMs) => timestampMs,
    closedByRecordAtMs: (asOfMs) => asOfMs + 1,
    closedByObservationAtMs: (asOfMs, graceMs) => asOfMs + graceMs,
  },
  'as-of-append-time/v2': {
    name: 'as-of-append-time/v2',
    text: `${ROUNDING_TEXT}as-of-append-time/v2 (table state as of the millisecond before the broker appended the inference, LogAppendTime)`,
    explanation:
      "Join as-of-append-time/v2: the tables as of the millisecond before the broker appended the inference (LogAppendTime): table records appended after it are never seen, whatever their producers' clocks say.",
    asOfMs: (timestampMs) => timestampMs - 1,
    closedByRecordAtMs: (asOfMs, graceMs) => asOfMs + 1 + graceMs,
    closedByObservationAtMs: (asOfMs, graceMs) => asOfMs + 1 + graceMs,
  },
};

/** The rule every new decision is made under and records. */
export const JOIN_RULE: JoinRuleName = 'as-of-append-time/v2';

/** The policy's rounding rule and the join rule, as recorded in every new decision (InferenceAttributed.orderingRule). */
export const ORDERING_RULE_TEXT = JOIN_RULES[JOIN_RULE].text;

/** The join rule a recorded orderingRule names; null for a text naming none (fixtures from before the rules). */
export function recordedJoinRule(orderingRule: string): JoinRule | null {
  return Object.values(JOIN_RULES).find((rule) => orderingRule.includes(rule.name)) ?? null;
}

/**
 * Where each table partition closes an as-of prefix, read from the broker at observedAtMs (the decider's
 * clock, taken before the request): for each partition the first offset the broker stamped at or after
 * `stampedFromMs` (ListOffsets by timestamp), or, where no record is stamped that late yet, its end
 * offset. With `stampedFromMs` Infinity every offset is an end offset.
 *
 * A record stamped at or after the closing instant closes the partition for every record after it (the
 * rule's premise), so the fold need only reach that record, not read it, nor read what was appended
 * after it: on a busy table the decider waits for the records before the inference, not for those
 * appended while its batch was on the way.
 */
export interface TablesObservation {
  readonly observedAtMs: number;
  readonly stampedFromMs: number;
  /** Keyed by partitionKey(topic, partition). */
  readonly offsets: ReadonlyMap<string, bigint>;
}

/**
 * Whether an observation can close the as-of prefix of asOfMs under `rule`: it was made late enough for
 * its end offsets to count, and the records it looked for were stamped no earlier than the closing instant.
 */
export function observationCloses(
  observation: TablesObservation,
  asOfMs: number,
  graceMs: number,
  rule: JoinRule,
): boolean {
  return (
    observation.observedAtMs >= rule.closedByObservationAtMs(asOfMs, graceMs) &&
    observation.stampedFromMs >= rule.closedByRecordAtMs(asOfMs, graceMs)
  );
}

export type CatchUp =
  | { readonly caughtUp: true }
  | {
      readonly caughtUp: false;
      readonly waitingFor: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
    };

export function partitionKey(topic: string, partition: number): string {
  return `${topic}[${partition}]`;
}

/**
 * Whether the as-of prefix is closed in every table partition, under `rule`. `partitions` lists every
 * table partition (one with no record yet has nextOffset 0 and watermarkMs -1).
 */
export function tablesCaughtUp(
  partitions: readonly PartitionProgress[],
  asOfMs: number,
  observation: TablesObservation | null,
  graceMs: number,
  rule: JoinRule,
): CatchUp {
  const observationCounts = observation !== null && observationCloses(observation, asOfMs, graceMs, rule);
  const closedByRecordAtMs = rule.closedByRecordAtMs(asOfMs, graceMs);
  const waitingFor = partitions.filter((progress) => {
    if (progress.watermarkMs >= closedByRecordAtMs) return false;
    if (!observationCounts) return true;
    const closingOffset = observation.offsets.get(partitionKey(progress.topic, progress.partition));
    return closingOffset === undefined || progress.nextOffset < closingOffset;
  });
  if (waitingFor.length === 0) return { caughtUp: true };
  return { caughtUp: false, waitingFor: waitingFor.map(({ topic, partition }) => ({ topic, partition })) };
}

/**
 * The version of one entity visible as of T: the latest one with visibleFromMs <= T. Within a
 * partition visibleFromMs never decreases with the offset, so "latest" is offset order; versions of one
 * id spread over partitions (a producer that did not key by id) are still ordered the same on every
 * replay, by (visibleFromMs, partition, offset).
 */
export function visibleAsOf<V extends EntityVersion>(versions: readonly V[], asOfMs: number): V | null {
  let best: V | null = null;
  for (const version of versions) {
    if (version.visibleFromMs > asOfMs) continue;
    if (best === null || laterThan(version, best)) best = version;
  }
  return best;
}

function laterThan(left: EntityVersion, right: EntityVersion): boolean {
  if (left.visibleFromMs !== right.visibleFromMs) return left.visibleFromMs > right.visibleFromMs;
  if (left.partition !== right.partition) return left.partition > right.partition;
  return left.offset > right.offset;
}
