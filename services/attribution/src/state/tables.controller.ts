import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS } from '@tributary/contracts';
import { HandlerErrorsAsThrown, InboundBatch } from '@tributary/messaging';
import { PostgresOffsetStore } from '@tributary/persistence';
import { StateStore, type BatchRecord } from './state-store';
import { readTableEvent, TableRecordRejected } from './table-records';

/**
 * The table side of the join: datanet, contribution and model records folded into versions in the
 * `attribution` schema. The versions, the per-partition progress and the consumed offsets commit in
 * one PostgreSQL transaction, so a restart resumes exactly where the fold stopped.
 *
 * Unlike the decider, the fold keeps no set of event ids, so no table record is dropped for reusing
 * one: table events are versions of their entity, and every decodable record is folded onto the
 * entity's latest state by libs/attribution's state.ts, where later events legitimately replace
 * earlier ones (the latest validation wins, an update changes the curator share). A record that leaves
 * the state as it was (a re-published event) adds no version and changes nothing; one that contradicts
 * it (a second DatanetCreated or ModelRegistered with other attributes, a submission by another
 * contributor) goes to the tables DLQ as CONFLICTS_WITH_EXISTING. Only the fields the policy reads are
 * compared: a second ContributionSubmitted differing only in license or content hash changes nothing.
 * A new ModelRegistered breaking the terms of a datanet the fold knows (DATANET_TERMS), or asking more
 * data share than the operator's protocol share leaves (PROTOCOL_POLICY), goes to the same DLQ.
 */
@Controller()
// The batch transport tells a record's fault from the infrastructure's by the error as thrown.
@UseFilters(HandlerErrorsAsThrown)
export class TablesController {
  private readonly logger = new Logger(TablesController.name);

  constructor(
    @Inject(PostgresOffsetStore) private readonly offsets: PostgresOffsetStore,
    @Inject(StateStore) private readonly state: StateStore,
  ) {}

  @EventPattern(TOPICS.datanets.name)
  datanets(@Payload() batch: InboundBatch): Promise<void> {
    return this.apply(batch);
  }

  @EventPattern(TOPICS.contributions.name)
  contributions(@Payload() batch: InboundBatch): Promise<void> {
    return this.apply(batch);
  }

  @EventPattern(TOPICS.models.name)
  models(@Payload() batch: InboundBatch): Promise<void> {
    return this.apply(batch);
  }

  private async apply(batch: InboundBatch): Promise<void> {
    const { appliedCount } = await this.offsets.runExactlyOnce(batch, async (manager, records) => {
      const byOffset = new Map(records.map((record) => [BigInt(record.offset), record]));
      const batchRecords: BatchRecord[] = records.map((record) => {
        const position = { offset: BigInt(record.offset), timestampMs: record.timestampMs };
        try {
          return { ...position, event: readTableEvent(record) };
        } catch (error) {
          if (!(error instanceof TableRecordRejected)) throw error;
          batch.reject(record, error.message, error);
          return { ...position, event: null };
        }
      });
      const rejected = await this.state.apply(
        manager,
        batch.topic,
        batch.partition,
        batchRecords,
        BigInt(batch.nextOffset),
      );
      for (const rejection of rejected) {
        batch.reject(byOffset.get(rejection.record.offset)!, `${rejection.reason}: ${rejection.detail}`);
      }
    });
    // A batch folded before (a re-delivery after a crash) may still end in markers the progress has not passed.
    if (appliedCount === 0) await this.state.skipTo(batch.topic, batch.partition, BigInt(batch.nextOffset));
    this.logger.debug(`folded ${appliedCount} records of ${batch.topic}[${batch.partition}] up to ${batch.nextOffset}`);
  }
}
