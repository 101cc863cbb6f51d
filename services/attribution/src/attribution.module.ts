import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DatabaseHealthController, PostgresOffsetStore } from '@tributary/persistence';
import { MetricsController, metricsRegistryFrom } from '@tributary/observability';
import { ATTRIBUTION_CONFIG, splitPolicy, type AttributionConfig } from './attribution.config';
import { dataSourceOptions } from './database/data-source-options';
import { DecisionStore } from './decision/decision-store';
import { ExplainController } from './explain/explain.controller';
import { StateStore } from './state/state-store';
import { TablesController } from './state/tables.controller';
import { DecisionLoopLifecycle } from './decision/decision-loop.lifecycle';
import { AttributionMetrics } from './metrics/attribution-metrics';

@Module({})
export class AttributionModule {
  static forConfig(config: AttributionConfig) {
    return {
      module: AttributionModule,
      imports: [
        TypeOrmModule.forRootAsync({
          // The service's role: its schema's rows, nothing else (the owner step ran before, in main).
          useFactory: () => dataSourceOptions(config.database.url, config.ATTRIBUTION_DB_POOL_MAX),
        }),
      ],
      controllers: [TablesController, ExplainController, DatabaseHealthController, MetricsController],
      providers: [
        { provide: ATTRIBUTION_CONFIG, useValue: config },
        {
          provide: PostgresOffsetStore,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => new PostgresOffsetStore(dataSource),
        },
        {
          provide: StateStore,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => new StateStore(dataSource, { policy: splitPolicy(config) }),
        },
        {
          provide: DecisionStore,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => new DecisionStore(dataSource),
        },
        DecisionLoopLifecycle,
        AttributionMetrics,
        metricsRegistryFrom(AttributionMetrics),
      ],
    };
  }
}
