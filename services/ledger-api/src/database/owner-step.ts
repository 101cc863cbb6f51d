import { Client } from 'pg';
import { ensureCredentialTable, grantCredentialReader, type Sql } from '@tributary/access';
import {
  ensureSchema,
  initializeDataSource,
  postgresOptions,
  retryOnCatalogRace,
  scramSha256Verifier,
} from '@tributary/persistence';
import { ROLE_NAME } from '../ledger-api.config';
import {
  createLedgerReaderMigration,
  LEDGER_API_SCHEMA,
  READ_MODEL_SCHEMA,
} from './migrations/1764000000800-create-ledger-reader';

export interface OwnerStepOptions {
  /** A connection that may create roles and grant on the ledger schema (its owner, or a superuser). */
  readonly ownerDatabaseUrl: string;
  readonly readerRole: string;
  /** Set as the role's password when not empty. */
  readonly readerPassword: string;
}

/**
 * The only thing this service does with the owner's connection, once, before it serves anything:
 * run its migration (the reader role, the grant function and the event trigger), set the reader's
 * password, and grant again, which covers tables the projector created after the migration first ran.
 * The connection is closed before the API opens its reader pool.
 */
export async function runOwnerStep(options: OwnerStepOptions): Promise<void> {
  if (!ROLE_NAME.test(options.readerRole))
    throw new RangeError(`LEDGER_API_READER_ROLE: "${options.readerRole}" must be lowercase letters, digits and _`);
  // Both schemas exist first: the grant needs `ledger` even when the projector has not started yet.
  await ensureSchema(options.ownerDatabaseUrl, READ_MODEL_SCHEMA);
  await ensureSchema(options.ownerDatabaseUrl, LEDGER_API_SCHEMA);
  // The read credentials' table (schema `access`): this service issues them and reads them.
  await withOwnerSql(options.ownerDatabaseUrl, ensureCredentialTable);
  // On a fresh database the projector creates the ledger's tables while this grants on them: PostgreSQL
  // may abort one side (a deadlock, or two grants updating one catalog row), and each step here rolls
  // back whole and is safe to run again.
  const dataSource = await initializeDataSource(
    postgresOptions({
      url: options.ownerDatabaseUrl,
      schema: LEDGER_API_SCHEMA,
      entities: [],
      migrations: [createLedgerReaderMigration(options.readerRole)],
      poolSizeMax: 1,
    }),
  );
  await dataSource.destroy();
  await retryOnCatalogRace(() => regrant(options));
  // A table the projector created in a transaction still open while the grants above ran is covered by
  // neither them nor the default privileges (set after it began): once that DDL has ended, grant again.
  // Always, not only when DDL was seen in flight: it may have committed between the grants and the look.
  await waitForOtherDdl(options.ownerDatabaseUrl);
  await retryOnCatalogRace(() => regrant(options));
}

const DDL_WAIT_MS_MAX = 30_000;
const DDL_POLL_MS = 200;

/**
 * Waits, bounded, until no other session of this database holds an ACCESS EXCLUSIVE lock (DDL in
 * flight, such as another service's start-up migration).
 */
async function waitForOtherDdl(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const deadlineMs = Date.now() + DDL_WAIT_MS_MAX;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND pid <> pg_backend_pid()`,
      );
      if (rows[0]!.n === 0 || Date.now() > deadlineMs) return;
      await new Promise((resolve) => setTimeout(resolve, DDL_POLL_MS));
    }
  } finally {
    await client.end();
  }
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

/**
 * Grants the reader SELECT on the live read model again (after a swap where no event trigger could be
 * made), and on the read credentials.
 */
export async function regrant(options: OwnerStepOptions): Promise<void> {
  const client = new Client({ connectionString: options.ownerDatabaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(`SELECT ${LEDGER_API_SCHEMA}.grant_ledger_reader()`);
    await grantCredentialReader(async (text) => (await client.query(text)).rows, options.readerRole);
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
