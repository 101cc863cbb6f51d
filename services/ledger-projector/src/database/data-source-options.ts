import type { DataSourceOptions } from 'typeorm';
import { CreateConsumerOffsets1764000000000 } from '@tributary/messaging';
import { AppliedEventRow, LedgerEntryRow } from './entities';
import { CreateLedgerEntries1764000000100 } from './migrations/1764000000100-CreateLedgerEntries';

/** Every TypeORM option written out: schema by migrations only, never synchronize. */
export function dataSourceOptions(databaseUrl: string, poolSizeMax = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: [LedgerEntryRow, AppliedEventRow],
    migrations: [CreateConsumerOffsets1764000000000, CreateLedgerEntries1764000000100],
    migrationsTableName: 'typeorm_migrations',
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error', 'warn', 'migration'],
    extra: { max: poolSizeMax, connectionTimeoutMillis: 10_000, statement_timeout: 60_000 },
  };
}
