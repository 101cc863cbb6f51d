import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { MetricsController, metricsRegistryFrom, throttlerOptions } from '@tributary/observability';
import { ReaderPool } from './database/reader-pool';
import { HealthController } from './health.controller';
import { ErrorBodyFilter } from './http/error.filter';
import { LedgerApiRateLimitGuard } from './http/rate-limit.guard';
import { ReadAccessGuard } from './http/read-access.guard';
import { DlqDepths } from './kafka/dlq-depths';
import { LedgerApiMetrics } from './kafka/dlq-metrics';
import { KafkaReader } from './kafka/kafka-reader';
import { LEDGER_API_CONFIG, type LedgerApiConfig } from './ledger-api.config';
import { AnalyticsQueries } from './ledger/analytics-queries';
import { InferenceQueries } from './ledger/inference-queries';
import { FundingQueries } from './ledger/funding-queries';
import {
  AccountsController,
  AnalyticsController,
  FundingController,
  LineageController,
  MeController,
  StatusController,
} from './ledger/ledger.controllers';
import { OffsetWindows } from './ledger/offset-window';
import { StatementQueries } from './ledger/statement-queries';
import { StatusQueries } from './ledger/status-queries';

/** The read-only query API: no TypeORM at runtime, one pg pool under the reader role, Kafka for reads only. */
@Module({})
export class LedgerApiModule {
  static forConfig(config: LedgerApiConfig): DynamicModule {
    return {
      module: LedgerApiModule,
      imports: [
        ThrottlerModule.forRoot(
          throttlerOptions({
            perAddress: config.LEDGER_API_RATE_LIMIT_PER_ADDRESS,
            perCredential: config.LEDGER_API_RATE_LIMIT_PER_CREDENTIAL,
            windowMs: config.LEDGER_API_RATE_LIMIT_WINDOW_MS,
          }),
        ),
      ],
      controllers: [
        MeController,
        AccountsController,
        LineageController,
        AnalyticsController,
        FundingController,
        StatusController,
        HealthController,
        MetricsController,
      ],
      providers: [
        { provide: LEDGER_API_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ErrorBodyFilter },
        // Global guards run in this order: who the reader is first, so the limiter counts per credential.
        { provide: APP_GUARD, useClass: ReadAccessGuard },
        { provide: APP_GUARD, useClass: LedgerApiRateLimitGuard },
        ReaderPool,
        KafkaReader,
        OffsetWindows,
        StatementQueries,
        InferenceQueries,
        AnalyticsQueries,
        StatusQueries,
        FundingQueries,
        DlqDepths,
        LedgerApiMetrics,
        metricsRegistryFrom(LedgerApiMetrics),
      ],
    };
  }
}
