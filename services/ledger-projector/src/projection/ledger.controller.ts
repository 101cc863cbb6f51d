import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS } from '@tributary/contracts';
import { HandlerErrorsAsThrown, InboundBatch } from '@tributary/messaging';
import { PostgresOffsetStore } from '@tributary/persistence';
import { LedgerMetrics } from '../metrics/ledger-metrics';
import { projectBatch } from './ledger-writer';

/**
 * Applies attribution decisions, payout events and funding events to the ledger: effects, chain head and consumed
 * offsets in one PostgreSQL transaction, so a batch is applied entirely or not at all.
 */
@Controller()
// The batch transport tells a record's fault from the infrastructure's by the error as thrown.
@UseFilters(HandlerErrorsAsThrown)
export class LedgerController {
  private readonly logger = new Logger(LedgerController.name);

  constructor(
    @Inject(PostgresOffsetStore) private readonly offsets: PostgresOffsetStore,
    @Inject(LedgerMetrics) private readonly metrics: LedgerMetrics,
  ) {}

  @EventPattern(TOPICS.attributions.name)
  async applyAttributions(@Payload() batch: InboundBatch): Promise<void> {
    await this.apply(batch);
  }

  @EventPattern(TOPICS.payouts.name)
  async applyPayouts(@Payload() batch: InboundBatch): Promise<void> {
    await this.apply(batch);
  }

  /** The treasury's deposits and chargebacks: they add to their producer's totals (producer_funding), no entries. */
  @EventPattern(TOPICS.funding.name)
  async applyFunding(@Payload() batch: InboundBatch): Promise<void> {
    await this.apply(batch);
  }

  private async apply(batch: InboundBatch): Promise<void> {
    const stopTimer = this.metrics.batchDuration.startTimer({ topic: batch.topic });
    let eventCount = 0;
    await this.offsets.runExactlyOnce(batch, async (manager, records) => {
      eventCount = await projectBatch(manager, batch, records, this.metrics);
    });
    stopTimer();
    const labels = { topic: batch.topic };
    this.metrics.batchSize.observe(labels, batch.records.length);
    this.metrics.eventsApplied.inc(labels, eventCount);
    const last = batch.records[batch.records.length - 1]!;
    this.metrics.lagMs.set(
      { topic: batch.topic, partition: String(batch.partition) },
      Math.max(0, Date.now() - last.timestampMs),
    );
    this.logger.debug(`applied ${eventCount} events of ${batch.topic}[${batch.partition}] up to ${batch.nextOffset}`);
  }
}
