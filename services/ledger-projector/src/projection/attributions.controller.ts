import { Controller, Inject, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS } from '@tributary/contracts';
import { InboundBatch, PostgresOffsetStore } from '@tributary/messaging';
import { readAttribution, RecordRejected } from './attribution-record';
import { DecodedRecord, writeEntries } from './ledger-writer';

/** Applies attribution decisions to the ledger: effects and consumed offsets in one PostgreSQL transaction. */
@Controller()
export class AttributionsController {
  private readonly logger = new Logger(AttributionsController.name);

  constructor(@Inject(PostgresOffsetStore) private readonly offsets: PostgresOffsetStore) {}

  @EventPattern(TOPICS.attributions.name)
  async apply(@Payload() batch: InboundBatch): Promise<void> {
    const { appliedCount } = await this.offsets.runExactlyOnce(batch, async (manager, records) => {
      const decoded: DecodedRecord[] = [];
      for (const record of records) {
        try {
          decoded.push({ record, transaction: readAttribution(record) });
        } catch (error) {
          if (!(error instanceof RecordRejected)) throw error;
          batch.reject(record, error.message, error);
        }
      }
      await writeEntries(manager, decoded);
    });
    this.logger.debug(`applied ${appliedCount} records of ${batch.topic}[${batch.partition}] up to ${batch.nextOffset}`);
  }
}
