import type { DataSourceOptions } from 'typeorm';
import { postgresOptions, CreateConsumerOffsets1764000000000 } from '@tributary/persistence';
import { CreateLedgerReadModel1764000000100 } from './migrations/1764000000100-create-ledger-read-model';
import { IdentifiersCollateC1764000000200 } from './migrations/1764000000200-identifiers-collate-c';
import { SumsAndEventIdsHoldAnyInput1764000000300 } from './migrations/1764000000300-sums-and-event-ids-hold-any-input';
import { ProducerFunding1764000000400 } from './migrations/1764000000400-producer-funding';

/**
 * The live read model lives in the `ledger` schema; the query API reads it from there. A rebuild
 * builds the same tables in a schema of its own, and `swap` renames it to `ledger`. The tables are
 * described by the migrations alone: the projector writes them with COPY and set-based SQL and reads
 * them with SQL, so no TypeORM entity maps them.
 */
export const LEDGER_SCHEMA = 'ledger';

export function dataSourceOptions(databaseUrl: string, poolSizeMax = 10, schema = LEDGER_SCHEMA): DataSourceOptions {
  return postgresOptions({
    url: databaseUrl,
    schema,
    entities: [],
    migrations: [
      CreateConsumerOffsets1764000000000,
      CreateLedgerReadModel1764000000100,
      IdentifiersCollateC1764000000200,
      SumsAndEventIdsHoldAnyInput1764000000300,
      ProducerFunding1764000000400,
    ],
    poolSizeMax,
  });
}

/** The live ledger's schema and migrations on the owner's connection, for the projector's owner step. */
export const ownerMigrations = (ownerUrl: string): DataSourceOptions => dataSourceOptions(ownerUrl, 1);
