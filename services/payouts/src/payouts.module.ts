import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TOPICS } from '@tributary/contracts';
import { DatabaseHealthController } from '@tributary/persistence';
import { MetricsController, metricsRegistryFrom, throttlerOptions } from '@tributary/observability';
import { dataSourceOptions } from './database/data-source-options';
import { PayoutsController } from './http/payouts.controller';
import { PayoutsRateLimitGuard } from './http/rate-limit.guard';
import { ReadAccessGuard } from './http/read-access.guard';
import { PAYOUTS_CONFIG, retryPolicyOf, thresholdsOf, type PayoutsConfig } from './payouts.config';
import { PayoutsMetrics } from './payouts-metrics';
import { PAYOUT_PUBLISHER } from './payout-publisher.token';
import { railsOf } from './rails/rails';
import type { PayoutPublisher } from './saga/payout-publisher';
import { SagaStore } from './saga/saga-store';
import { SagaWorker } from './saga/saga-worker';

export { PAYOUT_PUBLISHER };

@Module({})
export class PayoutsModule {
  static forConfig(config: PayoutsConfig, publisher: PayoutPublisher) {
    return {
      module: PayoutsModule,
      imports: [
        ThrottlerModule.forRoot(
          throttlerOptions({
            perAddress: config.PAYOUTS_RATE_LIMIT_PER_ADDRESS,
            perCredential: config.PAYOUTS_RATE_LIMIT_PER_CREDENTIAL,
            windowMs: config.PAYOUTS_RATE_LIMIT_WINDOW_MS,
          }),
        ),
        TypeOrmModule.forRootAsync({
          // The service's role: its schema's rows and reads of the ledger (the owner step ran before, in main).
          useFactory: () => dataSourceOptions(config.database.url, config.PAYOUTS_DB_POOL_MAX),
        }),
      ],
      controllers: [PayoutsController, DatabaseHealthController, MetricsController],
      providers: [
        { provide: PAYOUTS_CONFIG, useValue: config },
        // Global guards run in this order: who the reader is first, so the limiter counts per credential.
        { provide: APP_GUARD, useClass: ReadAccessGuard },
        { provide: APP_GUARD, useClass: PayoutsRateLimitGuard },
        { provide: PayoutsMetrics, useValue: new PayoutsMetrics() },
        metricsRegistryFrom(PayoutsMetrics),
        { provide: PAYOUT_PUBLISHER, useValue: publisher },
        {
          provide: SagaWorker,
          inject: [DataSource, PayoutsMetrics],
          useFactory: (dataSource: DataSource, metrics: PayoutsMetrics) =>
            new SagaWorker(
              dataSource,
              new SagaStore(dataSource),
              publisher,
              railsOf(config),
              {
                ledgerSchema: config.PAYOUTS_LEDGER_SCHEMA,
                ledgerGroupId: config.PAYOUTS_LEDGER_GROUP_ID,
                payoutsTopic: TOPICS.payouts.name,
                retry: retryPolicyOf(config),
                stepBatchMax: config.PAYOUTS_STEP_BATCH_MAX,
                pollIntervalMs: config.PAYOUTS_POLL_INTERVAL_MS,
                railTimeoutMs: config.PAYOUTS_WEBHOOK_TIMEOUT_MS,
                reconcileIntervalMs: config.PAYOUTS_RECONCILE_INTERVAL_MS,
                autoClose: config.PAYOUTS_EPOCH_AUTO_CLOSE
                  ? {
                      ledgerSchema: config.PAYOUTS_LEDGER_SCHEMA,
                      thresholds: thresholdsOf(config),
                      rail: config.PAYOUTS_RAIL,
                      intervalMs: config.PAYOUTS_EPOCH_INTERVAL_MS,
                    }
                  : null,
              },
              metrics,
            ),
        },
      ],
    };
  }
}
