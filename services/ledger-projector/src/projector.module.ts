import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DatabaseHealthController, initializeDataSource, PostgresOffsetStore } from '@tributary/persistence';
import { MetricsController, metricsRegistryFrom } from '@tributary/observability';
import { dataSourceOptions } from './database/data-source-options';
import { LagPoller } from './metrics/lag-poller';
import { LedgerMetrics } from './metrics/ledger-metrics';
import { LedgerController } from './projection/ledger.controller';
import { PROJECTOR_CONFIG, ProjectorConfig } from './projector.config';

@Module({})
export class ProjectorModule {
  static forConfig(config: ProjectorConfig) {
    return {
      module: ProjectorModule,
      imports: [
        TypeOrmModule.forRootAsync({
          // The projector's role: the ledger's rows, nothing else (the owner step ran before, in main).
          useFactory: () => dataSourceOptions(config.database.url, config.LEDGER_PROJECTOR_DB_POOL_MAX),
          // Its migration check may race other services' grants on a fresh database: run again on that race alone.
          dataSourceFactory: (options) => initializeDataSource(options!),
        }),
      ],
      controllers: [LedgerController, DatabaseHealthController, MetricsController],
      providers: [
        { provide: PROJECTOR_CONFIG, useValue: config },
        { provide: LedgerMetrics, useValue: new LedgerMetrics() },
        metricsRegistryFrom(LedgerMetrics),
        LagPoller,
        {
          provide: PostgresOffsetStore,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => new PostgresOffsetStore(dataSource),
        },
      ],
    };
  }
}
