import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from '@tributary/kafka-provisioner';
import { ensurePostgres, withDatabase } from '@tributary/local-stack';
import {
  ROLE_NAME,
  scramSha256Verifier,
  sqlIdentifier as identifier,
  sqlLiteral as literal,
  withClient,
} from '@tributary/persistence';

/** The schema the registry's tables live in, inside its own database. */
export const REGISTRY_SCHEMA = 'registry';

export interface RegistryDatabase {
  /** Its own database on the owner's server. */
  readonly database: string;
  /** Its own login role: owns the `registry` schema of that database and nothing else. */
  readonly role: string;
  /** The JDBC URL Apicurio connects with (no credentials in it). */
  readonly jdbcUrl: string;
}

/**
 * The registry's database and role for the owner's database `tributary` are `tributary_registry`: one
 * name per environment, so a test registry and a developer's never share a role (or its password).
 */
export function registryDatabaseName(ownerDatabaseUrl: string): string {
  const owner = decodeURIComponent(new URL(ownerDatabaseUrl).pathname.replace(/^\//, '')) || 'postgres';
  return `${owner}_registry`;
}

/** A password made once per registry instance, kept in a file only its owner reads, never printed. */
export function ensurePasswordFile(file: string): string {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // a concurrent start made it
    }
  }
  return fs.readFileSync(file, 'utf8').trim();
}

/**
 * Least privilege for the registry, run with the owner's (a superuser's) connection: a database of its
 * own that PUBLIC may not connect to, a login role that may create nothing but tables in the one schema
 * it owns there (Apicurio creates and upgrades its tables itself at start-up), and that role's password
 * set as a SCRAM verifier, so the password never reaches the server's log. Safe to run at every start.
 */
export async function ensureRegistryDatabase(
  ownerDatabaseUrl: string,
  opts: { database: string; role: string; password: string; log?: (line: string) => void },
): Promise<RegistryDatabase> {
  for (const [what, name] of [
    ['database', opts.database],
    ['role', opts.role],
  ] as const)
    if (!ROLE_NAME.test(name))
      throw new ProvisionError(
        `the registry's ${what} name '${name}' is not lowercase letters, digits and _ (at most 63)`,
        'name the owner database (DATABASE_URL) with such characters',
      );
  const registryUrl = withDatabase(new URL(ownerDatabaseUrl), opts.database);
  await ensurePostgres(registryUrl, opts.log);
  await withClient(withDatabase(new URL(ownerDatabaseUrl), 'postgres'), async (client) => {
    await client.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(opts.role)}) THEN
          CREATE ROLE ${identifier(opts.role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
        END IF;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    await client.query(`ALTER ROLE ${identifier(opts.role)} PASSWORD ${literal(scramSha256Verifier(opts.password))}`);
    await client.query(`REVOKE ALL ON DATABASE ${identifier(opts.database)} FROM PUBLIC`);
    await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${identifier(opts.database)} TO ${identifier(opts.role)}`);
    await client.query(
      `ALTER ROLE ${identifier(opts.role)} IN DATABASE ${identifier(opts.database)} SET search_path = ${identifier(REGISTRY_SCHEMA)}`,
    );
  });
  await withClient(registryUrl, async (client) => {
    await client.query(`REVOKE ALL ON SCHEMA public FROM PUBLIC`);
    await client.query(
      `CREATE SCHEMA IF NOT EXISTS ${identifier(REGISTRY_SCHEMA)} AUTHORIZATION ${identifier(opts.role)}`,
    );
  });
  const server = new URL(ownerDatabaseUrl);
  return {
    database: opts.database,
    role: opts.role,
    jdbcUrl: `jdbc:postgresql://${server.host}/${opts.database}?currentSchema=${REGISTRY_SCHEMA}`,
  };
}
