import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MetricsController, metricsRegistryFrom, throttlerOptions } from '@tributary/observability';
import { ApiKeyAuthenticator } from './auth/api-key.store';
import { GatewayRateLimitGuard } from './auth/rate-limit.guard';
import { dataSourceOptions } from './database/data-source-options';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway.config';
import { HealthController } from './health.controller';
import { GatewayExceptionFilter } from './ingest/gateway-exception.filter';
import { ContributionDatanetStore } from './ingest/contribution-datanets.store';
import { IdempotencyStore } from './ingest/idempotency.store';
import { IngestController } from './ingest/ingest.controller';
import { IngestService } from './ingest/ingest.service';
import { KafkaPublisher } from './ingest/kafka-publisher';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { SCHEMA_REGISTRY_IDS, SchemaCatalogController } from './schema-catalog/schema-catalog.controller';

@Module({})
export class GatewayModule {
  static forConfig(config: GatewayConfig, registryIds?: ReadonlyMap<string, number>): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ThrottlerModule.forRoot(
          throttlerOptions({
            perCredential: config.GATEWAY_RATE_LIMIT_PER_KEY,
            perAddress: config.GATEWAY_RATE_LIMIT_PER_ADDRESS,
            windowMs: config.GATEWAY_RATE_LIMIT_WINDOW_MS,
          }),
        ),
        TypeOrmModule.forRootAsync({
          // The gateway's role: its schema's rows, nothing else (the owner step ran before, in main).
          useFactory: () => dataSourceOptions(config.database.url, config.GATEWAY_DB_POOL_MAX),
        }),
      ],
      controllers: [IngestController, SchemaCatalogController, HealthController, MetricsController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: SCHEMA_REGISTRY_IDS, useValue: registryIds ?? new Map<string, number>() },
        { provide: APP_FILTER, useClass: GatewayExceptionFilter },
        GatewayMetrics,
        metricsRegistryFrom(GatewayMetrics),
        ApiKeyAuthenticator,
        GatewayRateLimitGuard,
        IdempotencyStore,
        ContributionDatanetStore,
        KafkaPublisher,
        IngestService,
      ],
    };
  }
}
