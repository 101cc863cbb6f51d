import type { DataSourceOptions } from 'typeorm';
import { postgresOptions } from '@tributary/persistence';
import { ApiKeyRow, ContributionDatanetRow, IngestedEventRow } from './entities';
import { CreateGatewayTables1764000000400 } from './migrations/1764000000400-create-gateway-tables';
import { CreateContributionDatanets1764000000401 } from './migrations/1764000000401-create-contribution-datanets';

/** The gateway's tables (API keys, idempotency records, contributions' datanets) live in the `gateway` schema. */
export const GATEWAY_SCHEMA = 'gateway';

export function dataSourceOptions(databaseUrl: string, poolSizeMax = 20): DataSourceOptions {
  return postgresOptions({
    url: databaseUrl,
    schema: GATEWAY_SCHEMA,
    entities: [ApiKeyRow, IngestedEventRow, ContributionDatanetRow],
    migrations: [CreateGatewayTables1764000000400, CreateContributionDatanets1764000000401],
    poolSizeMax,
  });
}

/** The gateway's schema and migrations on the owner's connection, for its owner step. */
export const ownerMigrations = (ownerUrl: string): DataSourceOptions => dataSourceOptions(ownerUrl, 1);
