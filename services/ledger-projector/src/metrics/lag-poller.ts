import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Admin, logLevel } from 'kafkajs';
import { createKafkaClient } from '@tributary/kafka-client';
import { DataSource } from 'typeorm';
import { kafkaClientOptions, kafkaEnv } from '@tributary/config';
import { TOPICS } from '@tributary/contracts';
import { describeError } from '@tributary/messaging';
import { LEDGER_SCHEMA } from '../database/data-source-options';
import { positionKey, readStoredOffsets } from '../operations/ledger-queries';
import { PROJECTOR_CONFIG, type ProjectorConfig } from '../projector.config';
import { LedgerMetrics } from './ledger-metrics';

/**
 * Samples projection lag per partition: the topic's high watermark (from Kafka) minus the next offset
 * stored beside the ledger (the authoritative one). A sampling failure is logged and retried on the
 * next tick; it never stops the projector.
 */
@Injectable()
export class LagPoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LagPoller.name);
  private admin: Admin | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(LedgerMetrics) private readonly metrics: LedgerMetrics,
    @Inject(PROJECTOR_CONFIG) private readonly config: ProjectorConfig,
    private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    const kafka = kafkaEnv(process.env, 'ledger-projector');
    this.admin = createKafkaClient({
      ...kafkaClientOptions(kafka, `${kafka.KAFKA_CLIENT_ID}-lag`),
      logLevel: logLevel.NOTHING,
    }).admin();
    this.timer = setInterval(() => void this.sample(), this.config.LEDGER_PROJECTOR_LAG_SAMPLE_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async sample(): Promise<void> {
    try {
      await this.admin!.connect();
      const next = await readStoredOffsets(this.dataSource, LEDGER_SCHEMA, this.config.LEDGER_PROJECTOR_GROUP_ID);
      for (const topic of [TOPICS.attributions.name, TOPICS.payouts.name, TOPICS.funding.name]) {
        for (const { partition, high } of await this.admin!.fetchTopicOffsets(topic)) {
          const lag = BigInt(high) - (next.get(positionKey(topic, partition)) ?? 0n);
          this.metrics.lagRecords.set({ topic, partition: String(partition) }, Number(lag));
        }
      }
    } catch (error) {
      this.logger.warn(`could not sample projection lag: ${describeError(error)}`);
    }
  }
}
