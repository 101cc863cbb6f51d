import type { EntityVersion, PartitionProgress } from './state';

/**
 * The cross-topic ordering rule (join rule "as-of-record-time/v1").
 *
 * Kafka orders records only within a partition, so "the state when the inference happened" has to be
 * defined, or every replay could interleave the topics differently. The rule:
 *
 *   An inference whose record timestamp is T is decided with the table state as of T: in every table
 *   partition, the longest prefix whose record timestamps are all at most T (the versions with
 *   visibleFromMs <= T). The decision waits, bounded, until that prefix is closed in every table
 *   partition: the partition's fold has passed a record with a timestamp above T, or it has consumed
 *   everything up to an end offset observed at least graceMs after T.
 *
 * The prefix is a function of the log alone, so every replay decides the same. The one assumption is
 * that a table record appended after the observation carries a timestamp above T: true with the
 * broker's LogAppendTime, and with producer CreateTime whenever producers publish within graceMs.
 */
export const JOIN_RULE = 'as-of-record-time/v1';

/** The policy's rounding rule and the join rule, as recorded in every decision (InferenceAttributed.orderingRule). */
export const ORDERING_RULE_TEXT =
  'rounding: largest-remainder, ties by accountId ascending; join: ' +
  `${JOIN_RULE} (table state as of the inference record timestamp, after every table partition passed it)`;

/** The end offsets of the table partitions, and the wall-clock time they were read at. */
export interface EndOffsetsObservation {
  readonly observedAtMs: number;
  /** Keyed by partitionKey(topic, partition). */
  readonly endOffsets: ReadonlyMap<string, bigint>;
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
 * Whether the as-of-T prefix is closed in every table partition. `partitions` lists every table
 * partition (one with no record yet has nextOffset 0 and watermarkMs -1).
 */
export function tablesCaughtUp(
  partitions: readonly PartitionProgress[],
  asOfMs: number,
  observation: EndOffsetsObservation | null,
  graceMs: number,
): CatchUp {
  const observationCounts = observation !== null && observation.observedAtMs >= asOfMs + graceMs;
  const waitingFor = partitions.filter((progress) => {
    if (progress.watermarkMs > asOfMs) return false;
    if (!observationCounts) return true;
    const endOffset = observation.endOffsets.get(partitionKey(progress.topic, progress.partition));
    return endOffset === undefined || progress.nextOffset < endOffset;
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
