import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ledgerDigest } from '@tributary/ledger';
import { TOPICS } from '@tributary/contracts';
import { partitionKey } from '@tributary/messaging';
import { ReaderPool } from '../database/reader-pool';
import { ApiError } from '../http/api-error';
import { KafkaReader, type PartitionOffsets } from '../kafka/kafka-reader';
import { LEDGER_API_CONFIG, type LedgerApiConfig } from '../ledger-api.config';
import { FreshnessWaits, TooManyWaiters, type FreshnessTarget } from './freshness-waits';

type FreshnessQuery = { topic: string; partition: number; offset: bigint; inferenceId?: string };

/** The ledger's digest, how far behind the log it is, and whether it reflects a given record yet. */
@Injectable()
export class StatusQueries implements OnApplicationShutdown {
  private readonly waits: FreshnessWaits;

  constructor(
    @Inject(ReaderPool) private readonly db: ReaderPool,
    @Inject(KafkaReader) private readonly kafka: KafkaReader,
    @Inject(LEDGER_API_CONFIG) private readonly config: LedgerApiConfig,
  ) {
    this.waits = new FreshnessWaits(
      {
        appliedInferences: async (inferenceIds) =>
          new Set(
            (
              await db.rows<{ inference_id: string }>(
                'SELECT inference_id FROM inferences WHERE inference_id = ANY($1::text[])',
                [inferenceIds],
              )
            ).map((row) => row.inference_id),
          ),
        storedOffsets: async () =>
          new Map(
            (await this.storedOffsets()).map((row) => [
              partitionKey(row.topic, row.partition),
              BigInt(row.next_offset),
            ]),
          ),
      },
      { pollMs: config.LEDGER_API_FRESHNESS_POLL_MS, waitersMax: config.LEDGER_API_FRESHNESS_WAITERS_MAX },
    );
  }

  onApplicationShutdown(): void {
    this.waits.close();
  }

  /** The projector's next offset per partition, stored with the ledger: how far the ledger is. */
  private storedOffsets() {
    return this.db.rows<{ topic: string; partition: number; next_offset: string }>(
      'SELECT topic, partition, next_offset::text FROM consumer_offsets WHERE group_id = $1',
      [this.config.LEDGER_PROJECTOR_GROUP_ID],
    );
  }

  /** The digest (libs/ledger) with the offsets it stands at, read in one snapshot so they belong together. */
  async digest() {
    return this.db.snapshot(async (client) => {
      const balances = (await client.query('SELECT account, asset, balance_minor::text FROM accounts')).rows as Array<{
        account: string;
        asset: string;
        balance_minor: string;
      }>;
      const heads = (
        await client.query(
          'SELECT source_topic, source_partition, chain_seq::text, head_hash FROM checkpoints ORDER BY 1, 2',
        )
      ).rows as Array<{ source_topic: string; source_partition: number; chain_seq: string; head_hash: Buffer }>;
      const offsets = (
        await client.query(
          'SELECT topic, partition, next_offset::text FROM consumer_offsets WHERE group_id = $1 ORDER BY 1, 2',
          [this.config.LEDGER_PROJECTOR_GROUP_ID],
        )
      ).rows as Array<{ topic: string; partition: number; next_offset: string }>;
      // The per-producer totals are part of the digest too, exactly as the projector's `digest` reads them.
      const funding = (
        await client.query(
          'SELECT producer, asset, fees_minor::text, credited_minor::text, deposits_minor::text, chargebacks_minor::text FROM producer_funding',
        )
      ).rows as Array<{
        producer: string;
        asset: string;
        fees_minor: string;
        credited_minor: string;
        deposits_minor: string;
        chargebacks_minor: string;
      }>;
      const credits = (
        await client.query('SELECT account, producer, asset, credited_minor::text FROM producer_credits')
      ).rows as Array<{ account: string; producer: string; asset: string; credited_minor: string }>;
      const digest = ledgerDigest(
        balances.map((row) => ({ account: row.account, asset: row.asset, balanceMinor: BigInt(row.balance_minor) })),
        heads.map((row) => ({
          sourceTopic: row.source_topic,
          sourcePartition: row.source_partition,
          chainSeq: BigInt(row.chain_seq),
          hash: row.head_hash,
        })),
        {
          funding: funding.map((row) => ({
            producer: row.producer,
            asset: row.asset,
            feesMinor: BigInt(row.fees_minor),
            creditedMinor: BigInt(row.credited_minor),
            depositsMinor: BigInt(row.deposits_minor),
            chargebacksMinor: BigInt(row.chargebacks_minor),
          })),
          credits: credits.map((row) => ({
            account: row.account,
            producer: row.producer,
            asset: row.asset,
            creditedMinor: BigInt(row.credited_minor),
          })),
        },
      );
      return {
        digest,
        accountCount: balances.length,
        chainHeads: heads.map((row) => ({
          topic: row.source_topic,
          partition: row.source_partition,
          chainSeq: row.chain_seq,
          headHash: row.head_hash.toString('hex'),
        })),
        offsets: offsets.map((row) => ({ topic: row.topic, partition: row.partition, nextOffset: row.next_offset })),
      };
    });
  }

  /**
   * Per partition of the topics the projector reads: the next offset stored with the ledger (the
   * authoritative position), Kafka's high watermark, the records between them, and the applied event
   * count and time of the last applied batch. Kafka being down leaves the watermarks null, not the page.
   */
  async lag() {
    const stored = await this.storedOffsets();
    const checkpoints = await this.db.rows<{
      source_topic: string;
      source_partition: number;
      event_count: string;
      chain_seq: string;
      updated_at: Date;
    }>('SELECT source_topic, source_partition, event_count::text, chain_seq::text, updated_at FROM checkpoints');
    const high = new Map<string, PartitionOffsets>();
    let kafkaProblem: string | null = null;
    for (const topic of [TOPICS.attributions.name, TOPICS.payouts.name]) {
      try {
        high.set(topic, await this.kafka.highWatermarks(topic));
      } catch (error) {
        kafkaProblem = (error as Error).message;
      }
    }
    const partitions: Array<{
      topic: string;
      partition: number;
      nextOffset: string;
      highWatermark: string | null;
      lagRecords: string | null;
      appliedEvents: string;
      lastAppliedAt: string | null;
    }> = [];
    for (const topic of [TOPICS.attributions.name, TOPICS.payouts.name]) {
      const known = new Set([
        ...(high.get(topic)?.keys() ?? []),
        ...stored.filter((row) => row.topic === topic).map((row) => row.partition),
      ]);
      for (const partition of [...known].sort((a, b) => a - b)) {
        const next = BigInt(
          stored.find((row) => row.topic === topic && row.partition === partition)?.next_offset ?? '0',
        );
        const watermark = high.get(topic)?.get(partition);
        const checkpoint = checkpoints.find((row) => row.source_topic === topic && row.source_partition === partition);
        partitions.push({
          topic,
          partition,
          nextOffset: next.toString(),
          highWatermark: watermark?.toString() ?? null,
          // Control records of committed transactions sit past the last data record, so lag may read 1 when caught up.
          lagRecords: watermark === undefined ? null : (watermark > next ? watermark - next : 0n).toString(),
          appliedEvents: checkpoint?.event_count ?? '0',
          lastAppliedAt: checkpoint?.updated_at.toISOString() ?? null,
        });
      }
    }
    const total = (key: 'lagRecords' | 'appliedEvents') =>
      partitions.reduce((sum, row) => sum + BigInt(row[key] ?? 0), 0n).toString();
    return {
      observedAt: new Date().toISOString(),
      lagRecords: kafkaProblem ? null : total('lagRecords'),
      appliedEvents: total('appliedEvents'),
      kafkaProblem,
      partitions,
    };
  }

  /**
   * Read-your-writes: does the ledger already reflect the record a producer got back from the gateway?
   * - On a topic the projector reads (attributions, payouts) the record is reflected once the offset
   *   stored with the ledger has passed it: offsets and effects commit in one transaction.
   * - On the inferences topic the offset is in another log than the ledger reads, so it is answered by
   *   the inference id: reflected once the ledger holds that inference's decision. While it does not, the
   *   attribution service's committed offset on the inference's partition says where it waits: before
   *   attribution (not decided yet) or after it (decided, or refused to the attribution DLQ, and not
   *   yet applied by the projector).
   * With `waitMs`, an answer that is not reflected yet waits up to that long for it (freshness-waits.ts)
   * and is then composed afresh; `signal` ends the wait early (the client went away).
   */
  async freshness(query: FreshnessQuery, waitMs = 0, signal?: AbortSignal) {
    if (waitMs > this.config.LEDGER_API_FRESHNESS_WAIT_MS_MAX)
      throw ApiError.badRequest([{ field: 'waitMs', rule: `max:${this.config.LEDGER_API_FRESHNESS_WAIT_MS_MAX}` }]);
    if (waitMs === 0) return this.freshnessNow(query);
    // Before a wait only the ledger is read: where a pending inference waits (the attribution group's
    // committed offset, a Kafka read) is asked once, in the answer composed after the wait.
    const reflected = await this.reflectedNow(query);
    if (reflected !== null) return reflected;
    // What the answer is by (freshnessNow): the offset on a topic the projector reads, else the inference id.
    const target: FreshnessTarget = isProjectorTopic(query.topic)
      ? { kind: 'offset', topic: query.topic, partition: query.partition, offset: query.offset }
      : { kind: 'inference', inferenceId: inferenceIdOf(query) };
    try {
      await this.waits.wait(target, waitMs, signal);
    } catch (error) {
      if (!(error instanceof TooManyWaiters)) throw error;
      throw ApiError.unavailable(
        `${error.message} (LEDGER_API_FRESHNESS_WAITERS_MAX=${this.config.LEDGER_API_FRESHNESS_WAITERS_MAX}); ask again shortly or without waitMs`,
      );
    }
    return this.freshnessNow(query);
  }

  private async freshnessNow(query: FreshnessQuery) {
    if (isProjectorTopic(query.topic)) return this.offsetFreshness(query);
    const inferenceId = inferenceIdOf(query);
    return (await this.appliedInference(query, inferenceId)) ?? this.pendingInference(query, inferenceId);
  }

  /** The answer when the ledger reflects the record already, else null: reads the ledger only. */
  private async reflectedNow(query: FreshnessQuery) {
    if (!isProjectorTopic(query.topic)) return this.appliedInference(query, inferenceIdOf(query));
    const answer = await this.offsetFreshness(query);
    return answer.reflected ? answer : null;
  }

  /** On a topic the projector reads: reflected once the offset stored with the ledger passed the record. */
  private async offsetFreshness(query: FreshnessQuery) {
    const [row] = await this.db.rows<{ next_offset: string }>(
      'SELECT next_offset::text FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3',
      [this.config.LEDGER_PROJECTOR_GROUP_ID, query.topic, query.partition],
    );
    const next = BigInt(row?.next_offset ?? '0');
    const reflected = query.offset < next;
    return {
      ...positionOf(query),
      reflected,
      stage: reflected ? 'applied' : 'projection',
      basis: 'ledger-offset',
      ledgerNextOffset: next.toString(),
    };
  }

  /** On the inferences topic: the answer when the ledger holds the inference's decision, else null. */
  private async appliedInference(query: FreshnessQuery, inferenceId: string) {
    const [applied] = await this.db.rows<{ source_topic: string; source_partition: number; source_offset: string }>(
      'SELECT source_topic, source_partition, source_offset::text FROM inferences WHERE inference_id = $1',
      [inferenceId],
    );
    if (!applied) return null;
    return {
      ...positionOf(query),
      inferenceId,
      reflected: true,
      stage: 'applied',
      basis: 'inference-id',
      decision: { topic: applied.source_topic, partition: applied.source_partition, offset: applied.source_offset },
    };
  }

  /** An inference the ledger does not hold yet: the attribution group's committed offset says where it waits. */
  private async pendingInference(query: FreshnessQuery, inferenceId: string) {
    const committed = (await this.kafka.committedOffsets(this.config.ATTRIBUTION_GROUP_ID, query.topic)).get(
      query.partition,
    );
    const attributed = committed !== undefined && committed > query.offset;
    return {
      ...positionOf(query),
      inferenceId,
      reflected: false,
      stage: attributed ? 'projection' : 'attribution',
      basis: 'inference-id',
      attributionCommittedOffset: committed?.toString() ?? null,
    };
  }
}

const isProjectorTopic = (topic: string) => topic === TOPICS.attributions.name || topic === TOPICS.payouts.name;

const positionOf = (query: FreshnessQuery) => ({
  topic: query.topic,
  partition: query.partition,
  offset: query.offset.toString(),
});

/** The inference id of a question about the inferences topic; any other topic, or no id, is a 400. */
function inferenceIdOf(query: FreshnessQuery): string {
  if (query.topic !== TOPICS.inferences.name) {
    throw ApiError.badRequest([
      { field: 'topic', rule: `one-of:${TOPICS.inferences.name}|${TOPICS.attributions.name}|${TOPICS.payouts.name}` },
    ]);
  }
  if (query.inferenceId === undefined)
    throw ApiError.badRequest([{ field: 'inferenceId', rule: `required-with-topic:${TOPICS.inferences.name}` }]);
  return query.inferenceId;
}
