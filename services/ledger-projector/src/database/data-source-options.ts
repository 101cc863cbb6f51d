import type { DataSourceOptions } from 'typeorm';
import { CreateConsumerOffsets1764000000000 } from '@tributary/messaging';
import { postgresOptions } from '@tributary/persistence';
import { AppliedEventRow, LedgerEntryRow } from './entities';
import { CreateLedgerEntries1764000000100 } from './migrations/1764000000100-CreateLedgerEntries';

/** The ledger read model lives in the `ledger` schema; the query API reads it from there. */
export const LEDGER_SCHEMA = 'ledger';

export function dataSourceOptions(databaseUrl: string, poolSizeMax = 10): DataSourceOptions {
  return postgresOptions({
    url: databaseUrl,
    schema: LEDGER_SCHEMA,
    entities: [LedgerEntryRow, AppliedEventRow],
    migrations: [CreateConsumerOffsets1764000000000, CreateLedgerEntries1764000000100],
    poolSizeMax,
  });
}
