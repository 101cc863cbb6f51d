import { Client, type ClientBase } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import { z } from 'zod';
import { LOCAL_DATABASE_URL, parseEnv, postgresUrl } from '@tributary/config';
import { ensureSchema } from './postgres-options';
import { initializeDataSource, retryOnCatalogRace } from './retry-on-catalog-race';
import { scramSha256Verifier } from './scram-verifier';

/** What one service's database role may do. */
export interface SchemaAccess {
  /** The schema its migrations create; the owner role owns it and everything in it. */
  readonly schema: string;
  /** The role the running service connects as (configuration may name another: see `variables`). */
  readonly role: string;
  /** Whether the role reads and writes the rows of its schema's tables (never their definitions). */
  readonly writesOwn: boolean;
  /** Other services' schemas whose tables it may SELECT, and nothing else there. */
  readonly reads: readonly string[];
  /** Its configuration variables. */
  readonly variables: RoleVariables;
}

export interface RoleVariables {
  /** The role's name; by default the user of `url` when that is set, else the catalog's name. */
  readonly role: string;
  /**
   * The role's password, set by the owner step as a SCRAM verifier; by default the password of `url` when
   * that is set, else empty (where the server asks for none).
   */
  readonly password: string;
  /** The role's connection; by default DATABASE_URL with the role's name and password in it. */
  readonly url: string;
  /** `true`: run the owner step at start-up with DATABASE_URL, then forget it; `false`: `migrate` ran it. */
  readonly migrate: string;
}

/**
 * The one place that says which role may use which schema. Each service's role gets USAGE on its own
 * schema and SELECT, INSERT, UPDATE, DELETE on its tables (or nothing, where it has no rows to write),
 * SELECT on the schemas it reads, and no CREATE anywhere: only the owner role, in the owner step, changes
 * a schema. A new service or schema is one more entry here (and a `reads` item where another service reads it).
 */
export const DATABASE_ACCESS = {
  gateway: {
    schema: 'gateway',
    role: 'tributary_gateway',
    writesOwn: true,
    reads: [],
    variables: {
      role: 'GATEWAY_DB_ROLE',
      password: 'GATEWAY_DB_PASSWORD',
      url: 'GATEWAY_DB_URL',
      migrate: 'GATEWAY_MIGRATE',
    },
  },
  attribution: {
    schema: 'attribution',
    role: 'tributary_attribution',
    writesOwn: true,
    reads: [],
    variables: {
      role: 'ATTRIBUTION_DB_ROLE',
      password: 'ATTRIBUTION_DB_PASSWORD',
      url: 'ATTRIBUTION_DB_URL',
      migrate: 'ATTRIBUTION_MIGRATE',
    },
  },
  'ledger-projector': {
    schema: 'ledger',
    role: 'tributary_ledger_projector',
    writesOwn: true,
    reads: [],
    variables: {
      role: 'LEDGER_PROJECTOR_DB_ROLE',
      password: 'LEDGER_PROJECTOR_DB_PASSWORD',
      url: 'LEDGER_PROJECTOR_DB_URL',
      migrate: 'LEDGER_PROJECTOR_MIGRATE',
    },
  },
  payouts: {
    schema: 'payouts',
    role: 'tributary_payouts',
    writesOwn: true,
    // The ledger's balances it plans from; the read credentials of libs/access.
    reads: ['ledger', 'access'],
    variables: {
      role: 'PAYOUTS_DB_ROLE',
      password: 'PAYOUTS_DB_PASSWORD',
      url: 'PAYOUTS_DB_URL',
      migrate: 'PAYOUTS_MIGRATE',
    },
  },
  // The query API's schema holds only its migrations and grant functions; its reader role reads the ledger,
  // and the read credentials it checks (the owner step creates their table, schema `access`).
  'ledger-api': {
    schema: 'ledger_api',
    role: 'tributary_ledger_reader',
    writesOwn: false,
    reads: ['ledger', 'access'],
    variables: {
      role: 'LEDGER_API_READER_ROLE',
      password: 'LEDGER_API_READER_PASSWORD',
      url: 'LEDGER_API_READER_DATABASE_URL',
      migrate: 'LEDGER_API_MIGRATE',
    },
  },
} as const satisfies Record<string, SchemaAccess>;

export type DatabaseService = keyof typeof DATABASE_ACCESS;

/**
 * Schemas no service's role writes: only the owner does, in an owner step or an operator's command. A role
 * may read one through `reads`. `access` holds the read credentials (libs/access), which the ledger API's
 * owner step creates and `npm run ledger-api -- credentials` issues and revokes.
 */
export const OWNER_WRITTEN_SCHEMAS = ['access'] as const;

/** PostgreSQL role names are interpolated into DDL, so they are held to a strict pattern. */
export const ROLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** A service's database configuration: its role's connection, and the owner's, to be taken once. */
export interface ServiceDatabaseConfig {
  readonly service: DatabaseService;
  readonly schema: string;
  readonly role: string;
  readonly password: string;
  /** The role's connection: everything the running service does goes through it. */
  readonly url: string;
  /** Whether the service runs the owner step at start-up. */
  readonly migrate: boolean;
  /**
   * DATABASE_URL, the owner's connection, handed out once (to the owner step) and then forgotten here and
   * in process.env, so nothing the service logs or keeps later holds it. Throws if it was taken already.
   */
  takeOwnerUrl(): string;
  /** Forgets the owner's connection without using it (a service started with migrate=false). */
  forgetOwnerUrl(): void;
}

/**
 * Reads a service's database variables (see `RoleVariables`), validated: errors name the variable and
 * the rule, never the value. DATABASE_URL is the owner's connection (or a superuser's).
 */
export function serviceDatabaseConfig(
  service: DatabaseService,
  env: NodeJS.ProcessEnv = process.env,
): ServiceDatabaseConfig {
  const access: SchemaAccess = DATABASE_ACCESS[service];
  const names = access.variables;
  const roleName = z
    .string()
    .trim()
    .regex(ROLE_NAME, 'must be lowercase letters, digits and _ (at most 63), starting with a letter');
  const rolePassword = z
    .string()
    .max(128, 'must be at most 128 characters')
    // Printable ASCII: the owner step sends a SCRAM verifier, exact only where SASLprep changes nothing.
    .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII characters');
  const schema = z
    .object({
      DATABASE_URL: postgresUrl.default(LOCAL_DATABASE_URL),
      [names.role]: roleName.optional(),
      [names.password]: rolePassword.optional(),
      [names.url]: postgresUrl.optional(),
      [names.migrate]: z.enum(['true', 'false'], { message: 'must be true or false' }).default('true'),
    })
    .superRefine((values, context) => {
      // A role URL given whole names the role and its password; a variable set beside it must agree.
      const text = values[names.url];
      // Not a URL: its own rule reported it already (and a TypeError here would carry the password).
      if (text === undefined || !URL.canParse(text)) return;
      const given = new URL(text);
      const problem = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
      const [user, password] = [decoded(given.username), decoded(given.password)];
      if (user === undefined || password === undefined)
        return problem(names.url, 'its user and password must be percent-encoded where they need it');
      if (values[names.role] === undefined && !roleName.safeParse(user).success)
        problem(names.url, `its user must be a role name (lowercase letters, digits and _), or set ${names.role}`);
      if (values[names.role] !== undefined && user !== '' && user !== values[names.role])
        problem(names.url, `its user must be ${names.role}`);
      if (values[names.password] === undefined && !rolePassword.safeParse(password).success)
        problem(names.url, 'its password must be at most 128 printable ASCII characters');
    });
  const parsed = parseEnv('database', schema, env) as Record<string, string | undefined>;
  const text = parsed[names.url];
  const given = text === undefined ? undefined : new URL(text);
  const role = parsed[names.role] ?? (given?.username ? decoded(given.username)! : access.role);
  const password = parsed[names.password] ?? (given ? decoded(given.password)! : '');
  const url = text ?? roleUrlOf(parsed.DATABASE_URL!, role, password);
  let ownerUrl: string | undefined = parsed.DATABASE_URL;
  const forget = () => {
    ownerUrl = undefined;
    // The environment a child process or a diagnostic dump would see, too.
    if (env === process.env) delete process.env.DATABASE_URL;
  };
  return {
    service,
    schema: access.schema,
    role,
    password,
    url,
    migrate: parsed[names.migrate] === 'true',
    takeOwnerUrl() {
      if (ownerUrl === undefined) throw new Error(`${service}: the owner's database connection was used already`);
      const url = ownerUrl;
      forget();
      return url;
    },
    forgetOwnerUrl: forget,
  };
}

/** A URL's percent-encoded user or password as text; undefined where the encoding is broken. */
function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The owner's URL with a role's credentials: the same server and database, another role. */
export function roleUrlOf(ownerUrl: string, role: string, password: string): string {
  const url = new URL(ownerUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

/**
 * The owner step of one service, run once before it serves (at start-up with migrate=true, or by its
 * `migrate` command): the schemas it uses exist, its role exists with its password, its migrations run as
 * the owner, and its role gets exactly the grants `DATABASE_ACCESS` gives it. Safe to run again and beside
 * other services' steps (roles are the cluster's; grants on one schema may race). `migrations` builds the
 * service's data source options (schema and migrations) for a connection URL.
 */
export async function runOwnerStep(
  ownerUrl: string,
  database: Pick<ServiceDatabaseConfig, 'service' | 'role' | 'password'>,
  migrations: (url: string) => DataSourceOptions,
): Promise<void> {
  const access: SchemaAccess = DATABASE_ACCESS[database.service];
  if (!ROLE_NAME.test(database.role))
    throw new RangeError(`${access.variables.role}: must be lowercase letters, digits and _ (at most 63)`);
  // Replicas of one service started together each run this step: without a lock the second to create
  // typeorm's migrations table (or to run a migration) failed on the first's, and its process exited.
  await withClient(ownerUrl, async (lock) => {
    await lock.query(`SET lock_timeout = '${OWNER_STEP_LOCK_WAIT_S}s'`);
    try {
      await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`tributary.owner-step.${database.service}`]);
    } catch (error) {
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
      throw new Error(
        `${database.service}: another instance's owner step held its lock for more than ${OWNER_STEP_LOCK_WAIT_S} s`,
      );
    }
    // Held until this session ends (withClient), also when the step throws.
    await ownerStepOf(ownerUrl, database, access, migrations);
  });
}

/** How long an owner step waits for another instance's step of the same service. */
const OWNER_STEP_LOCK_WAIT_S = 300;
/** SQLSTATE of a lock wait past lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';

async function ownerStepOf(
  ownerUrl: string,
  database: Pick<ServiceDatabaseConfig, 'role' | 'password'>,
  access: SchemaAccess,
  migrations: (url: string) => DataSourceOptions,
): Promise<void> {
  for (const schema of [access.schema, ...access.reads]) await ensureSchema(ownerUrl, schema);
  await retryOnCatalogRace(() =>
    withClient(ownerUrl, (client) => ensureRole(client, database.role, database.password, access)),
  );
  // Migrations race other services' DDL and grants on a fresh database: each runs in its own transaction.
  await (await initializeDataSource({ ...migrations(ownerUrl), migrationsRun: true })).destroy();
  await retryOnCatalogRace(() => withClient(ownerUrl, (client) => grantAccess(client, database.role, access)));
  if (access.reads.length > 0) {
    // A table another service created in a transaction still open while the grants above ran is covered by
    // neither them nor the default privileges (set after it began): once that DDL has ended, grant again.
    await waitForOtherDdl(ownerUrl);
    await retryOnCatalogRace(() => withClient(ownerUrl, (client) => grantAccess(client, database.role, access)));
  }
}

/**
 * What a service does with the owner's connection at start-up: with migrate=true it runs the owner step
 * and forgets the connection; with migrate=false (its `migrate` command ran the step) it only forgets it.
 * Either way, the service goes on with its role's connection alone.
 */
export async function ownerStepAtStartUp(
  database: ServiceDatabaseConfig,
  migrations: (url: string) => DataSourceOptions,
): Promise<void> {
  if (!database.migrate) return database.forgetOwnerUrl();
  await runOwnerStep(database.takeOwnerUrl(), database, migrations);
}

/** Creates the role when it does not exist (two services or databases may race to), and sets its password. */
async function ensureRole(client: ClientBase, role: string, password: string, access: SchemaAccess): Promise<void> {
  await client.query(`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(role)}) THEN
        CREATE ROLE ${identifier(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
      END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$`);
  // A second wall behind the grants for a role with nothing to write: every session starts read-only.
  if (!access.writesOwn) await client.query(`ALTER ROLE ${identifier(role)} SET default_transaction_read_only = on`);
  if (password !== '') {
    // ALTER ROLE takes no bind parameters. The server gets a SCRAM verifier, never the password, which its
    // log would show on a failed statement (and on every DDL statement under log_statement = 'ddl').
    await client.query(`ALTER ROLE ${identifier(role)} PASSWORD ${literal(scramSha256Verifier(password))}`);
  }
}

/** Every schema the catalog names: the services' own, and those only the owner writes. */
const CATALOG_SCHEMAS: readonly string[] = [
  ...Object.values(DATABASE_ACCESS).map((access) => access.schema),
  ...OWNER_WRITTEN_SCHEMAS,
];

/**
 * The grants of `DATABASE_ACCESS` for one role, and only those, in one transaction: whatever the role
 * holds on the catalog's schemas is taken back first (an older catalog's wider grants, or a hand's), so
 * a grant removed from the catalog is gone from every database at the service's next owner step. Other
 * sessions see the old grants or the new ones, never the gap between.
 */
async function grantAccess(client: ClientBase, role: string, access: SchemaAccess): Promise<void> {
  const grantee = identifier(role);
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])',
      [CATALOG_SCHEMAS],
    );
    for (const { nspname } of rows) {
      const schema = identifier(nspname);
      await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${grantee}`);
      await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${grantee}`);
      await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM ${grantee}`);
      await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} REVOKE ALL ON TABLES FROM ${grantee}`);
    }
    if (access.writesOwn) {
      const own = identifier(access.schema);
      await client.query(`GRANT USAGE ON SCHEMA ${own} TO ${grantee}`);
      await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${own} TO ${grantee}`);
      await client.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${own} TO ${grantee}`);
    }
    for (const read of access.reads) {
      const schema = identifier(read);
      await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${grantee}`);
      await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${grantee}`);
      // Tables the owning service's migrations create later (it may start after this one).
      await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${grantee}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Gives the tables of schema `to` the grants the tables of schema `from` have, and the schema itself the
 * USAGE `from` gives: for a schema that takes another's place by a rename (the ledger projector's swap),
 * since grants belong to the objects, not to the name. Run in the caller's transaction, before the rename.
 */
export async function copySchemaGrants(client: ClientBase, from: string, to: string): Promise<void> {
  const { rows } = await client.query<{ grantee: string; privilege: string; on: 'schema' | 'tables' | 'sequences' }>(
    `SELECT DISTINCT a.grantee::regrole::text AS grantee, a.privilege_type AS privilege, 'schema' AS on
       FROM pg_namespace n, aclexplode(n.nspacl) a
      WHERE n.nspname = $1 AND a.grantee <> 0 AND a.grantee <> n.nspowner
     UNION
     SELECT DISTINCT a.grantee::regrole::text, a.privilege_type, CASE c.relkind WHEN 'S' THEN 'sequences' ELSE 'tables' END
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'S') AND a.grantee <> 0 AND a.grantee <> c.relowner`,
    [from],
  );
  const target = identifier(to);
  for (const { grantee, privilege, on } of rows) {
    // regrole::text quotes a name that needs it; privilege types are PostgreSQL's own keywords.
    const what = on === 'schema' ? `SCHEMA ${target}` : `ALL ${on.toUpperCase()} IN SCHEMA ${target}`;
    await client.query(`GRANT ${privilege} ON ${what} TO ${grantee}`);
  }
}

const DDL_WAIT_MS_MAX = 30_000;
const DDL_POLL_MS = 200;

/**
 * Waits, bounded, until no other session of this database holds an ACCESS EXCLUSIVE lock (DDL in
 * flight, such as another service's start-up migration).
 */
export async function waitForOtherDdl(url: string): Promise<void> {
  await withClient(url, async (client) => {
    const deadlineMs = Date.now() + DDL_WAIT_MS_MAX;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND pid <> pg_backend_pid()`,
      );
      if (rows[0]!.n === 0 || Date.now() > deadlineMs) return;
      await new Promise((resolve) => setTimeout(resolve, DDL_POLL_MS));
    }
  });
}

/** One short-lived session for an owner step's statements, always ended. */
export async function withClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** A SQL string literal; role names were already held to ROLE_NAME, this is the second check. */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier. */
export function identifier(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}
