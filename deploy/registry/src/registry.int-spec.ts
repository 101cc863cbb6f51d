// Proves the schema registry as Tributary runs it, on a real Apicurio Registry with real PostgreSQL storage:
// registering the event schemas gives each a stable id, again gives the same ids, every id resolves through
// the Confluent-compatible API, subjects, versions and compatibility are as planned, the registry's role
// holds no more than it needs, and after the registry process is stopped and started again every schema
// and id is still there. The registry here is one of this file's own (its own name, port and database), so
// stopping it disturbs no other test.
import { parseAvroType } from '@tributary/contracts';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import {
  COMPATIBILITY_LEVEL,
  registerEventSchemas,
  registrationPlan,
  SchemaRegistryClient,
} from '@tributary/schema-registry';
import { Client } from 'pg';
import { dropDatabase, withDatabase } from '@tributary/local-stack';
import { registryDatabaseName, startRegistry, type RunningRegistry } from '@tributary/registry-provisioner';

jest.setTimeout(180_000);

const NAME = 'it-registry';
const PORT = Number(process.env.TEST_REGISTRY_PORT ?? 18081) + 2;

describe('the schema registry (Apicurio Registry, PostgreSQL storage)', () => {
  const plan = registrationPlan();
  const fingerprints = plan.flatMap((subject) => subject.versions.map((version) => version.fingerprint));
  let owner: TestDatabase;
  let registry: RunningRegistry;
  let client: SchemaRegistryClient;
  let ids: Map<string, number>;

  const start = () => startRegistry({ name: NAME, port: PORT, ownerDatabaseUrl: owner.url });

  beforeAll(async () => {
    owner = await createTestDatabase('registry');
    registry = await start();
    client = new SchemaRegistryClient(registry.ccompatUrl);
    ids = await registerEventSchemas(registry.ccompatUrl);
  });

  afterAll(async () => {
    await registry?.stop();
    if (!owner) return;
    const database = registryDatabaseName(owner.url);
    await dropDatabase(withDatabase(new URL(owner.url), database));
    await asOwner(owner.url, (db) => db.query(`DROP ROLE IF EXISTS "${database}"`));
    await owner.drop();
  });

  it('gives every schema version an id', () => {
    expect([...ids.keys()].sort()).toEqual([...fingerprints].sort());
    for (const id of ids.values()) expect(Number.isSafeInteger(id) && id > 0).toBe(true);
    // Distinct schemas, distinct ids.
    expect(new Set(ids.values()).size).toBe(fingerprints.length);
  });

  it('gives the same ids when the schemas are registered again, and adds no version', async () => {
    const again = await registerEventSchemas(registry.ccompatUrl);
    expect([...again]).toEqual([...ids]);
    for (const subject of plan)
      expect(await client.versions(subject.subject)).toEqual(subject.versions.map((_version, index) => index + 1));
  });

  it('answers GET /schemas/ids/{id} with the very schema, for every id', async () => {
    for (const [fingerprint, id] of ids) {
      const response = await fetch(`${registry.ccompatUrl}/schemas/ids/${id}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { schema: string; schemaType?: string };
      expect(body.schemaType ?? 'AVRO').toBe('AVRO');
      expect(parseAvroType(JSON.parse(body.schema)).fingerprint('sha256').toString('hex')).toBe(fingerprint);
    }
  });

  it('lists one subject per event type, named by the record name, with its versions oldest first', async () => {
    expect((await client.subjects()).sort()).toEqual(plan.map((subject) => subject.subject).sort());
    for (const subject of plan) {
      for (const [index, version] of subject.versions.entries()) {
        const registered = await client.version(subject.subject, index + 1);
        expect(registered).toMatchObject({
          subject: subject.subject,
          version: index + 1,
          id: ids.get(version.fingerprint),
        });
        expect(JSON.parse(registered.schema)).toEqual(JSON.parse(version.schemaText));
      }
    }
  });

  it(`sets every subject's compatibility to ${COMPATIBILITY_LEVEL}, and the registry enforces it`, async () => {
    for (const subject of plan) expect(await client.compatibility(subject.subject)).toBe(COMPATIBILITY_LEVEL);
    // A new version adding a field without a default: old records could not be read by it.
    const subject = plan.find((candidate) => candidate.subject === 'tributary.inferences.InferenceCompleted')!;
    const latest = JSON.parse(subject.versions.at(-1)!.schemaText) as { fields: unknown[] };
    const breaking = { ...latest, fields: [...latest.fields, { name: 'breaksReaders', type: 'string' }] };
    await expect(client.register(subject.subject, JSON.stringify(breaking))).rejects.toMatchObject({ status: 409 });
  });

  it('runs as a role of its own that owns only its schema, in a database PUBLIC may not enter', async () => {
    const database = registryDatabaseName(owner.url);
    expect(registry.database).toBe(database);
    await asOwner(withDatabase(new URL(owner.url), database), async (db) => {
      const role = await db.query(
        'SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication FROM pg_roles WHERE rolname = $1',
        [database],
      );
      expect(role.rows).toEqual([{ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false }]);
      const tables = await db.query(
        `SELECT DISTINCT schemaname, tableowner FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
      );
      expect(tables.rows).toEqual([{ schemaname: 'registry', tableowner: database }]);
      const access = await db.query(
        `SELECT has_database_privilege('public', current_database(), 'CONNECT') AS public_connects,
                has_schema_privilege($1, 'public', 'CREATE') AS creates_in_public`,
        [database],
      );
      expect(access.rows).toEqual([{ public_connects: false, creates_in_public: false }]);
    });
  });

  it('keeps every schema and id when the registry process is stopped and started again', async () => {
    await registry.stop();
    await expect(fetch(`${registry.ccompatUrl}/subjects`)).rejects.toThrow();
    registry = await start();
    expect(registry.startedHere).toBe(true);
    expect((await client.subjects()).sort()).toEqual(plan.map((subject) => subject.subject).sort());
    for (const [fingerprint, id] of ids) {
      const { schema } = await client.schemaById(id);
      expect(parseAvroType(JSON.parse(schema)).fingerprint('sha256').toString('hex')).toBe(fingerprint);
    }
    for (const subject of plan) expect(await client.compatibility(subject.subject)).toBe(COMPATIBILITY_LEVEL);
    expect([...(await registerEventSchemas(registry.ccompatUrl))]).toEqual([...ids]);
  });

  it('is the one the local test stack runs too: SCHEMA_REGISTRY_URL answers', async () => {
    // Only the local stack (deploy/kafka's broker) starts a registry; a given stack may pass its own, or none.
    if (process.env.TRIBUTARY_TEST_KAFKA_NAME === undefined && !process.env.SCHEMA_REGISTRY_URL) return;
    const url = process.env.SCHEMA_REGISTRY_URL;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/);
    expect(Array.isArray(await new SchemaRegistryClient(url!).subjects())).toBe(true);
  });
});

async function asOwner<T>(url: string, use: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    return await use(db);
  } finally {
    await db.end();
  }
}
