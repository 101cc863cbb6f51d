import { Inject, Injectable } from '@nestjs/common';
import { TOPICS } from '@tributary/contracts';
import { KafkaReader } from '../kafka/kafka-reader';

/**
 * A time range as positions in the attributions log. The read model stores no clock time, but every
 * inference row and every entry knows the (partition, offset) of the decision record it came from, and
 * Kafka maps a time to the first offset at or after it in each partition (ListOffsets by timestamp).
 * So "decisions recorded in [from, to)" is, per partition, the offsets [offsetAt(from), offsetAt(to)).
 * The time is the decision record's Kafka timestamp: when the attribution service published it.
 */
export interface OffsetWindow {
  readonly partitions: number[];
  readonly fromOffsets: string[];
  readonly toOffsets: string[];
}

const OFFSET_END = (2n ** 63n - 1n).toString();

@Injectable()
export class OffsetWindows {
  constructor(@Inject(KafkaReader) private readonly kafka: KafkaReader) {}

  /** null when the range is unbounded on both sides: no filter at all. */
  async of(range: { fromMs?: number; toMs?: number }): Promise<OffsetWindow | null> {
    if (range.fromMs === undefined && range.toMs === undefined) return null;
    const topic = TOPICS.attributions.name;
    const from = range.fromMs !== undefined ? await this.kafka.offsetsAt(topic, range.fromMs) : null;
    const to = range.toMs !== undefined ? await this.kafka.offsetsAt(topic, range.toMs) : null;
    const partitions = [...new Set([...(from?.keys() ?? []), ...(to?.keys() ?? [])])].sort((a, b) => a - b);
    return {
      partitions,
      fromOffsets: partitions.map((partition) => (from?.get(partition) ?? 0n).toString()),
      toOffsets: partitions.map((partition) => to?.get(partition)?.toString() ?? OFFSET_END),
    };
  }
}

/**
 * The SQL condition "row `alias` lies in the window", with its three parameters numbered from
 * `firstParam`; a null window passes nulls and matches every row.
 */
export function windowCondition(alias: string, firstParam: number): string {
  const [p, lo, hi] = [firstParam, firstParam + 1, firstParam + 2];
  return `($${p}::int[] IS NULL OR EXISTS (SELECT 1 FROM unnest($${p}::int[], $${lo}::bigint[], $${hi}::bigint[]) AS w(partition, lo, hi)
            WHERE w.partition = ${alias}.source_partition AND ${alias}.source_offset >= w.lo AND ${alias}.source_offset < w.hi))`;
}

export function windowParams(window: OffsetWindow | null): unknown[] {
  return window ? [window.partitions, window.fromOffsets, window.toOffsets] : [null, null, null];
}
