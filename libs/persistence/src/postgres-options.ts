import { Client } from 'pg';
import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';

export interface ServiceDatabase {
  readonly url: string;
  /** Each service owns one PostgreSQL schema of the shared database: its tables, its migrations, its offsets. */
  readonly schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for entity classes
  readonly entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for migration classes
  readonly migrations: MixedList<Function | string>;
  readonly poolSizeMax: number;
}

const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Every TypeORM option written out: schema by migrations only (never synchronize), the service's own
 * PostgreSQL schema first on the search path, bounded pool and statement time, and READ COMMITTED as
 * every transaction's isolation level. The offset store's exactly-once rests on it (a second holder
 * of a partition waits for the row lock, then reads the offset the first one moved), so it is set for
 * the session when the connection opens, whatever the database's default: a transaction that named it
 * would spend a round trip on SET TRANSACTION.
 */
export function postgresOptions(database: ServiceDatabase): DataSourceOptions {
  assertSchemaName(database.schema);
  return {
    type: 'postgres',
    url: database.url,
    schema: database.schema,
    entities: database.entities,
    migrations: database.migrations,
    migrationsTableName: 'typeorm_migrations',
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error', 'warn', 'migration'],
    extra: {
      max: database.poolSizeMax,
      connectionTimeoutMillis: 10_000,
      statement_timeout: 60_000,
      options: `-c search_path=${database.schema} -c default_transaction_isolation=read\\ committed`,
    },
  };
}

/** Creates the service's schema before TypeORM runs migrations into it (TypeORM would not create it). */
export async function ensureSchema(url: string, schema: string): Promise<void> {
  assertSchemaName(schema);
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (error) {
    // Two services starting at once may race on the same schema.
    if ((error as { code?: string }).code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema))
    throw new RangeError(`schema "${schema}" must be lowercase letters, digits and _ (at most 63)`);
}
