import type { DataSourceOptions } from 'typeorm';
import { postgresOptions, CreateConsumerOffsets1764000000000 } from '@tributary/persistence';
import { CreateAttributionState1764000000200 } from './migrations/1764000000200-create-attribution-state';
import { DecisionHeadersAsText1764000000300 } from './migrations/1764000000300-decision-headers-as-text';
import { DecisionContentHash1764000000400 } from './migrations/1764000000400-decision-content-hash';

/** The attribution service owns the `attribution` schema of the shared database. */
export const ATTRIBUTION_SCHEMA = 'attribution';

/** Tables are written with multi-row SQL for throughput; the migration is their one definition. */
export function dataSourceOptions(databaseUrl: string, poolSizeMax = 10): DataSourceOptions {
  return postgresOptions({
    url: databaseUrl,
    schema: ATTRIBUTION_SCHEMA,
    entities: [],
    migrations: [
      CreateConsumerOffsets1764000000000,
      CreateAttributionState1764000000200,
      DecisionHeadersAsText1764000000300,
      DecisionContentHash1764000000400,
    ],
    poolSizeMax,
  });
}

/** The service's schema and migrations on the owner's connection, for its owner step. */
export const ownerMigrations = (ownerUrl: string): DataSourceOptions => dataSourceOptions(ownerUrl, 1);
