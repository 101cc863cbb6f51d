import type { DataSourceOptions } from 'typeorm';
import { postgresOptions } from '@tributary/persistence';
import { CreatePayoutSagas1764000000300 } from './migrations/1764000000300-create-payout-sagas';
import { PayoutReconciliation1764000000600 } from './migrations/1764000000600-payout-reconciliation';

/** The payouts service owns the `payouts` schema; it reads the ledger's schema, never writes it. */
export const PAYOUTS_SCHEMA = 'payouts';

/** Saga rows are written with explicit, fenced SQL; the migration is their one definition. */
export function dataSourceOptions(databaseUrl: string, poolSizeMax = 5): DataSourceOptions {
  return postgresOptions({
    url: databaseUrl,
    schema: PAYOUTS_SCHEMA,
    entities: [],
    migrations: [CreatePayoutSagas1764000000300, PayoutReconciliation1764000000600],
    poolSizeMax,
  });
}

/** The service's schema and migrations on the owner's connection, for its owner step. */
export const ownerMigrations = (ownerUrl: string): DataSourceOptions => dataSourceOptions(ownerUrl, 1);
