import type { DataSourceOptions } from 'typeorm';
import { postgresOptions } from '@tributary/persistence';
import { ApiKeyRow, IngestedEventRow } from './entities';
import { CreateGatewayTables1764000000400 } from './migrations/1764000000400-CreateGatewayTables';

/** The gateway's tables (API keys, idempotency records) live in the `gateway` schema. */
export const GATEWAY_SCHEMA = 'gateway';

export function dataSourceOptions(databaseUrl: string, poolSizeMax = 20): DataSourceOptions {
  return postgresOptions({
    url: databaseUrl,
    schema: GATEWAY_SCHEMA,
    entities: [ApiKeyRow, IngestedEventRow],
    migrations: [CreateGatewayTables1764000000400],
    poolSizeMax,
  });
}
