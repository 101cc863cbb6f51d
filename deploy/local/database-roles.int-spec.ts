// Proves issue 23's "a database role per service": every service runs as its own process on one database,
// as `npm start` runs them, each given the superuser's URL for its start-up owner step only. Then each
// service's role is tried on every other service's schema: SELECT, INSERT and CREATE TABLE are refused with
// SQLSTATE 42501 (insufficient_privilege), except the reads a service needs (payouts and the ledger API read
// the ledger and the read credentials of schema `access`, which only the owner writes). No session of the database is left to the owner once the services are up.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { catalogFor, topicCatalog } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { DATABASE_ACCESS } from '@tributary/persistence';
import {
  createTestDatabase,
  eventually,
  startServiceProcess,
  testBrokers,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { runOwnerSteps } from './src/owner-steps';
import { LOCAL_SERVICES } from './src/services';

const INSUFFICIENT_PRIVILEGE = '42501';
const READY_TIMEOUT_MS = 150_000;

/** A value no log line would hold by chance, so finding it means a leak. */
const password = (service: string) => `${service}-db-password-${randomBytes(12).toString('hex')}`;

interface ServiceUnderTest {
  readonly service: keyof typeof DATABASE_ACCESS;
  readonly main: string;
  readonly ready: string;
  readonly role: string;
  readonly passwordVariable: string;
  readonly password: string;
  /** The schema whose tables it writes (none for the read-only ledger API). */
  readonly writes: string | null;
  /** Schemas it may only read. */
  readonly reads: readonly string[];
  readonly env: Record<string, string>;
}

/** Written out here, not read from the catalog: the test states what each role may do. */
const SERVICES: readonly ServiceUnderTest[] = [
  {
    service: 'gateway',
    main: 'services/gateway/src/main.ts',
    ready: 'gateway ready at',
    role: 'tributary_gateway',
    passwordVariable: 'GATEWAY_DB_PASSWORD',
    password: password('gateway'),
    writes: 'gateway',
    reads: [],
    env: { GATEWAY_HTTP_PORT: '0', GATEWAY_INSTANCE_ID: uniqueName('roles-gw') },
  },
  {
    service: 'attribution',
    main: 'services/attribution/src/main.ts',
    ready: 'attribution ready',
    role: 'tributary_attribution',
    passwordVariable: 'ATTRIBUTION_DB_PASSWORD',
    password: password('attribution'),
    writes: 'attribution',
    reads: [],
    env: { ATTRIBUTION_HTTP_PORT: '0' },
  },
  {
    service: 'ledger-projector',
    main: 'services/ledger-projector/src/main.ts',
    ready: 'ledger-projector ready',
    role: 'tributary_ledger_projector',
    passwordVariable: 'LEDGER_PROJECTOR_DB_PASSWORD',
    password: password('projector'),
    writes: 'ledger',
    reads: [],
    env: { LEDGER_PROJECTOR_HTTP_PORT: '0' },
  },
  {
    service: 'payouts',
    main: 'services/payouts/src/main.ts',
    ready: 'payouts ready',
    role: 'tributary_payouts',
    passwordVariable: 'PAYOUTS_DB_PASSWORD',
    password: password('payouts'),
    writes: 'payouts',
    reads: ['ledger', 'access'],
    env: { PAYOUTS_HTTP_PORT: '0', PAYOUTS_EPOCH_AUTO_CLOSE: 'false' },
  },
  {
    service: 'ledger-api',
    main: 'services/ledger-api/src/main.ts',
    ready: 'ledger-api ready at',
    role: 'tributary_ledger_reader',
    passwordVariable: 'LEDGER_API_READER_PASSWORD',
    password: password('reader'),
    writes: null,
    reads: ['ledger', 'access'],
    env: { LEDGER_API_HTTP_PORT: '0' },
  },
];
/** A table of each schema to try: the migrations' table of the services' schemas, the read credentials'. */
const TABLES = {
  gateway: 'gateway.typeorm_migrations',
  attribution: 'attribution.typeorm_migrations',
  ledger: 'ledger.typeorm_migrations',
  payouts: 'payouts.typeorm_migrations',
  ledger_api: 'ledger_api.typeorm_migrations',
  access: 'access.read_credentials',
} as const;
const SCHEMAS = Object.keys(TABLES) as Array<keyof typeof TABLES>;

/** What a role may do on a schema, as this test expects it. */
function allowed(service: ServiceUnderTest, schema: string): { select: boolean; write: boolean } {
  if (service.writes === schema) return { select: true, write: true };
  return { select: service.reads.includes(schema), write: false };
}

describe('a database role per service', () => {
  const prefix = `${uniqueName('roles')}.`;
  const processes: ServiceProcess[] = [];
  let database: TestDatabase;

  const roleUrl = (service: ServiceUnderTest) => {
    const url = new URL(database.url);
    url.username = service.role;
    url.password = service.password;
    return url.toString();
  };
  const withSql = async <T>(url: string, use: (sql: Client) => Promise<T>): Promise<T> => {
    const sql = new Client({ connectionString: url });
    await sql.connect();
    try {
      return await use(sql);
    } finally {
      await sql.end();
    }
  };
  const start = (service: ServiceUnderTest) => {
    const instance = startServiceProcess(
      service.main,
      {
        KAFKA_BROKERS: testBrokers().join(','),
        // The owner's connection: the service runs its owner step with it, then forgets it.
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        [service.passwordVariable]: service.password,
        ...service.env,
      },
      `roles-${service.service}`,
    );
    processes.push(instance);
    return instance;
  };
  const ready = (service: ServiceUnderTest, instance: ServiceProcess) =>
    eventually(() => expect(instance.output()).toContain(service.ready), READY_TIMEOUT_MS);

  beforeAll(async () => {
    database = await createTestDatabase('roles');
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalogFor(prefix)), 1));
    const [gateway, attribution, projector, payouts, ledgerApi] = SERVICES;
    // The projector first, as `npm start` orders them: the readers' grants then find the ledger's tables.
    const started = [gateway!, attribution!, projector!].map((service) => [service, start(service)] as const);
    await ready(projector!, started[2]![1]);
    started.push([payouts!, start(payouts!)], [ledgerApi!, start(ledgerApi!)]);
    for (const [service, instance] of started) await ready(service, instance);
  }, 400_000);

  afterAll(async () => {
    await Promise.all(processes.map((instance) => instance.stop()));
    await database?.drop();
  });

  it('names every service of the catalog', () => {
    expect(SERVICES.map((service) => service.service).sort()).toEqual(Object.keys(DATABASE_ACCESS).sort());
  });

  it('serves as its own role, and leaves no session of the database to the owner', async () => {
    // Each readiness check queries the database through the service's pool, whose session then stays a while.
    for (const [index, service] of SERVICES.entries()) {
      const line = new RegExp(`${service.ready}.*?(http://[^\\s/]+)`).exec(processes[index]!.output());
      const base = line![1]!.replace('[::1]', '127.0.0.1');
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    }
    const sessions = await withSql(database.url, async (sql) => {
      const { rows } = await sql.query<{ usename: string }>(
        'SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      return rows.map((row) => row.usename).sort();
    });
    expect(sessions).toEqual(SERVICES.map((service) => service.role).sort());
  });

  it('never prints a role password', () => {
    const printed = processes.map((instance) => instance.output()).join('\n');
    for (const service of SERVICES) expect(printed).not.toContain(service.password);
  });

  it("npm start's owner steps hand each service its role's connection alone", async () => {
    const fresh = await createTestDatabase('roles_start');
    const started: ServiceProcess[] = [];
    try {
      const handed = await runOwnerSteps(fresh.url, LOCAL_SERVICES);
      expect([...handed.keys()].sort()).toEqual(Object.keys(DATABASE_ACCESS).sort());
      for (const service of [SERVICES[0]!, SERVICES[4]!]) {
        const instance = startServiceProcess(
          service.main,
          {
            KAFKA_BROKERS: testBrokers().join(','),
            // An owner's URL nobody answers at: a service that still used it would not start.
            DATABASE_URL: 'postgres://owner@127.0.0.1:1/nowhere',
            TRIBUTARY_TOPIC_PREFIX: prefix,
            ...service.env,
            // Beside the gateway above: transactional ids of its own.
            GATEWAY_INSTANCE_ID: uniqueName('roles-start-gw'),
            ...handed.get(service.service),
          },
          `roles-start-${service.service}`,
        );
        started.push(instance);
        await ready(service, instance);
      }
      const users = await withSql(fresh.url, async (sql) => {
        const { rows } = await sql.query<{ usename: string }>(
          'SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        );
        return rows.map((row) => row.usename);
      });
      for (const user of users) expect(SERVICES.map((service) => service.role)).toContain(user);
    } finally {
      await Promise.all(started.map((instance) => instance.stop()));
      await fresh.drop();
    }
  });

  it('lets replicas of one service run its owner step at once on a fresh database', async () => {
    // Replicas started together each run the step at start-up: without a lock, the second to create
    // typeorm's migrations table failed on a duplicate key and its process exited.
    const fresh = await createTestDatabase('roles_replicas');
    try {
      const attribution = LOCAL_SERVICES.filter((service) => service.name === 'attribution');
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => runOwnerSteps(fresh.url, attribution)));
      expect(outcomes.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : 'done'))).toEqual([
        'done',
        'done',
        'done',
      ]);
    } finally {
      await fresh.drop();
    }
  });

  it('takes back at its next owner step what the catalog no longer gives a role', async () => {
    // Grants an older catalog (or an operator's hand) gave the payouts role beyond today's: writing the
    // ledger, and reading the attribution schema, its tables now and those made later.
    const fresh = await createTestDatabase('roles_shrunk');
    try {
      const payouts = LOCAL_SERVICES.filter((service) => service.name === 'payouts');
      await runOwnerSteps(fresh.url, LOCAL_SERVICES);
      const role = DATABASE_ACCESS.payouts.role;
      await withSql(fresh.url, async (sql) => {
        await sql.query(`GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ledger TO ${role}`);
        await sql.query(`GRANT USAGE ON SCHEMA attribution TO ${role}`);
        await sql.query(`GRANT SELECT ON ALL TABLES IN SCHEMA attribution TO ${role}`);
        await sql.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA attribution GRANT SELECT ON TABLES TO ${role}`);
      });
      await runOwnerSteps(fresh.url, payouts);
      const privileges = await withSql(fresh.url, async (sql) => {
        await sql.query('CREATE TABLE attribution.made_later (id int)');
        const { rows } = await sql.query<Record<string, boolean>>(
          `SELECT has_table_privilege($1, 'ledger.typeorm_migrations', 'SELECT') AS "reads ledger",
                  has_table_privilege($1, 'ledger.typeorm_migrations', 'INSERT') AS "inserts into ledger",
                  has_table_privilege($1, 'ledger.typeorm_migrations', 'DELETE') AS "deletes from ledger",
                  has_schema_privilege($1, 'attribution', 'USAGE') AS "uses attribution",
                  has_table_privilege($1, 'attribution.typeorm_migrations', 'SELECT') AS "reads attribution",
                  has_table_privilege($1, 'attribution.made_later', 'SELECT') AS "reads attribution's new tables",
                  has_table_privilege($1, 'payouts.typeorm_migrations', 'INSERT') AS "inserts into its own"`,
          [role],
        );
        return rows[0];
      });
      expect(privileges).toEqual({
        'reads ledger': true,
        'inserts into ledger': false,
        'deletes from ledger': false,
        'uses attribution': false,
        'reads attribution': false,
        "reads attribution's new tables": false,
        'inserts into its own': true,
      });
    } finally {
      await fresh.drop();
    }
  });

  const cases = SERVICES.flatMap((service) =>
    SCHEMAS.map((schema) => ({ service, schema, ...allowed(service, schema) })),
  );

  describe.each(cases)('$service.service on schema $schema', ({ service, schema, select, write }) => {
    /** One statement as the role, in a session that is not read-only, so only the grants decide. */
    const asRole = (statement: string) =>
      withSql(roleUrl(service), async (sql) => {
        await sql.query('SET default_transaction_read_only = off');
        return sql.query(statement);
      });
    const expectRefused = (statement: string) =>
      expect(asRole(statement)).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });

    it(select ? 'may SELECT' : 'is refused SELECT (42501)', async () => {
      const statement = `SELECT count(*) FROM ${TABLES[schema]}`;
      if (select) await expect(asRole(statement)).resolves.toMatchObject({ rowCount: 1 });
      else await expectRefused(statement);
    });

    it(write ? 'may INSERT' : 'is refused INSERT (42501)', async () => {
      if (write) {
        // Its own writes go through the service itself (it started, migrated and serves); here a rolled-back insert.
        await withSql(roleUrl(service), async (sql) => {
          await sql.query('BEGIN');
          await sql.query(`INSERT INTO ${schema}.typeorm_migrations (timestamp, name) VALUES (0, 'roles-test')`);
          await sql.query('ROLLBACK');
        });
      } else {
        // The privilege is checked before any row is built, so the table's own constraints never answer first.
        await expectRefused(`INSERT INTO ${TABLES[schema]} DEFAULT VALUES`);
      }
    });

    it('is refused CREATE TABLE (42501): only the owner changes a schema', async () => {
      await expectRefused(`CREATE TABLE ${schema}.intruder (id int)`);
    });
  });
});
