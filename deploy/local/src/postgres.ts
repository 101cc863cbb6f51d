import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ProvisionError } from '@tributary/kafka-provisioner';

const run = promisify(execFile);
const CONNECT_TIMEOUT_MS = 5_000;
const START_WAIT_MS = 20_000;

/**
 * Makes sure the PostgreSQL behind `databaseUrl` answers and that its database exists. A local server
 * that is installed but down is started (Debian's pg_ctlcluster); anything else that does not answer is
 * a set-up error with one line saying how to fix it.
 */
export async function ensurePostgres(databaseUrl: string, log: (line: string) => void = () => {}): Promise<void> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  const maintenanceUrl = withDatabase(url, 'postgres');
  if (!(await answers(maintenanceUrl))) {
    if (!isLocalHost(url.hostname)) throw unreachable(url);
    await startLocalCluster(log);
    await waitUntilAnswers(maintenanceUrl, url);
  }
  await createDatabaseIfMissing(maintenanceUrl, database, log);
}

export function withDatabase(url: URL, database: string): string {
  const copy = new URL(url.toString());
  copy.pathname = `/${encodeURIComponent(database)}`;
  return copy.toString();
}

async function answers(connectionString: string): Promise<boolean> {
  const client = new Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (isConnectionFailure(error)) return false;
    throw new ProvisionError(
      `PostgreSQL at ${new URL(connectionString).host} refused us: ${(error as Error).message}`,
      'check the user and password in DATABASE_URL',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return (
    ['ECONNREFUSED', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', '57P03'].includes(code ?? '') ||
    /timeout|terminated/i.test((error as Error).message)
  );
}

function isLocalHost(hostname: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname);
}

function unreachable(url: URL): ProvisionError {
  return new ProvisionError(
    `PostgreSQL is unreachable at ${url.host}`,
    'start it (Debian: pg_ctlcluster <version> main start) or point DATABASE_URL at a running server',
  );
}

/** Starts every stopped local cluster that Debian's postgresql-common knows about. */
async function startLocalCluster(log: (line: string) => void): Promise<void> {
  let listing: string;
  try {
    listing = (await run('pg_lsclusters', ['--no-header'])).stdout;
  } catch {
    throw new ProvisionError(
      'PostgreSQL is not running on 127.0.0.1:5432 and is not installed here',
      'install it (apt-get install postgresql) or set DATABASE_URL to a server you run',
    );
  }
  for (const line of listing.split('\n').filter((row) => row.includes('down'))) {
    const [version, cluster] = line.trim().split(/\s+/);
    if (!version || !cluster) continue;
    log(`starting PostgreSQL cluster ${version}/${cluster}`);
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, cluster, 'start']).catch((error: Error) => {
      throw new ProvisionError(
        `PostgreSQL ${version}/${cluster} would not start: ${error.message.split('\n')[0]}`,
        `read /var/log/postgresql/postgresql-${version}-${cluster}.log`,
      );
    });
  }
}

async function waitUntilAnswers(connectionString: string, url: URL): Promise<void> {
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline) {
    if (await answers(connectionString)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw unreachable(url);
}

async function createDatabaseIfMissing(maintenanceUrl: string, database: string, log: (line: string) => void) {
  const client = new Client({ connectionString: maintenanceUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount) return;
    log(`creating database ${database}`);
    // Identifiers cannot be bound as parameters; quote the name the way PostgreSQL's quote_ident does.
    await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
      if (error.code !== '42P04') throw error; // created meanwhile by a concurrent start
    });
  } finally {
    await client.end();
  }
}

/** Drops a database; used by tests that give each file a database of its own. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const client = new Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
