import { Client } from 'pg';
import { ensureCredentialTable, type Sql } from '@tributary/access';
import { postgresOptions, runOwnerStep as runServiceOwnerStep, scramSha256Verifier } from '@tributary/persistence';
import { createLedgerReaderMigration, LEDGER_API_SCHEMA } from './migrations/1764000000800-create-ledger-reader';

export interface OwnerStepOptions {
  /** A connection that may create roles and grant on the ledger schema (its owner, or a superuser). */
  readonly ownerDatabaseUrl: string;
  readonly readerRole: string;
  /** Set as the role's password when not empty. */
  readonly readerPassword: string;
}

/**
 * The only thing this service does with the owner's connection, once, before it serves anything: the
 * read credentials' table (schema `access`: this service issues them), then the owner step every service
 * runs (libs/persistence: the role, its password, the migrations, the grants `DATABASE_ACCESS` gives it,
 * again after other services' DDL in flight), with this service's migration (the grant function and the
 * event trigger that keep the reader's grants across a ledger swap). The connection is closed before the
 * API opens its reader pool.
 */
export async function runOwnerStep(options: OwnerStepOptions): Promise<void> {
  await withOwnerSql(options.ownerDatabaseUrl, ensureCredentialTable);
  await runServiceOwnerStep(
    options.ownerDatabaseUrl,
    { service: 'ledger-api', role: options.readerRole, password: options.readerPassword },
    (url) =>
      postgresOptions({
        url,
        schema: LEDGER_API_SCHEMA,
        entities: [],
        migrations: [createLedgerReaderMigration(options.readerRole)],
        poolSizeMax: 1,
      }),
  );
}

/** One owner connection for a few statements, closed afterwards. */
export async function withOwnerSql<T>(url: string, use: (sql: Sql) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await use(async <Row>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as Row[]);
  } finally {
    await client.end();
  }
}

/** Grants the reader SELECT on the live read model again: after a swap where no event trigger could be made. */
export async function regrant(options: OwnerStepOptions): Promise<void> {
  const client = new Client({ connectionString: options.ownerDatabaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(`SELECT ${LEDGER_API_SCHEMA}.grant_ledger_reader()`);
    if (options.readerPassword !== '') {
      // ALTER ROLE takes no bind parameters; the role name matched ROLE_NAME and the verifier is quoted. The
      // server gets the SCRAM verifier, never the password, which its log would show on a failed statement.
      const verifier = scramSha256Verifier(options.readerPassword);
      await client.query(`ALTER ROLE "${options.readerRole}" PASSWORD ${quote(verifier)}`);
    }
  } finally {
    await client.end();
  }
}

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
