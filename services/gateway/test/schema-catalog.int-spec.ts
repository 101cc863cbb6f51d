// Proves the schema catalog for consumers outside this repo on the real broker: the gateway publishes
// every writer schema to the compacted schema topic keyed by fingerprint, serves each over HTTP by
// fingerprint and by name+version, and a record's ce_dataschema header leads to its writer schema.
import {
  catalogFor,
  getEventContract,
  inputTopics,
  schemaCatalogEntries,
  serviceGrants,
  topicCatalog,
  toRecord,
} from '@tributary/contracts';
import {
  createTestDatabase,
  eventually,
  readTopic,
  startServiceProcess,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { registerEventSchemas, SchemaRegistryClient } from '@tributary/schema-registry';
import { ConfigResourceTypes } from 'kafkajs';
import { SAMPLE_EVENTS } from '../../../libs/contracts/src/schemas/sample-events.fixture';

describe('the schema catalog', () => {
  const prefix = `${uniqueName('g')}.`;
  const catalog = catalogFor(prefix);
  let gateway: ServiceProcess;
  let baseUrl: string;
  let database: TestDatabase;

  beforeAll(async () => {
    // The gateway keeps its API keys and idempotency records in PostgreSQL: a database of its own.
    database = await createTestDatabase('gateway_catalog');
    gateway = startServiceProcess(
      'services/gateway/src/main.ts',
      {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        GATEWAY_HTTP_PORT: '0',
      },
      'gateway',
    );
    const ready = await eventually(() => {
      const match = /gateway ready at (http:\/\/[^ ]+) /.exec(gateway.output());
      expect(match).not.toBeNull();
      return match![1]!;
    }, 60_000);
    baseUrl = ready.replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.drop();
  });

  it('creates the catalog topics it writes, and only those, with their configs, the schema topic compacted', async () => {
    const topics = await withAdmin((admin) => admin.listTopics());
    const written = new Set(
      serviceGrants('gateway', catalog)
        .filter((grant) => grant.resourceType === 'topic')
        .map((grant) => grant.name),
    );
    expect([...written].sort()).toEqual([...inputTopics(catalog), catalog.topics.schemas.name].sort());
    for (const spec of topicCatalog(catalog))
      expect([spec.name, topics.includes(spec.name)]).toEqual([spec.name, written.has(spec.name)]);
    const described = await withAdmin((admin) =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: catalog.topics.schemas.name },
          { type: ConfigResourceTypes.TOPIC, name: catalog.topics.inferences.name },
        ],
      }),
    );
    const config = (index: number, name: string) =>
      described.resources[index]!.configEntries.find((entry) => entry.configName === name)?.configValue;
    expect(config(0, 'cleanup.policy')).toBe('compact');
    expect(config(1, 'cleanup.policy')).toBe('delete');
    expect(config(1, 'retention.ms')).toBe('-1');
    expect(config(1, 'min.insync.replicas')).toBe('1');
  });

  it('publishes every schema to the compacted topic, keyed by its fingerprint, with its registry id', async () => {
    // The test stack runs a schema registry (SCHEMA_REGISTRY_URL), which the gateway registered every schema
    // with at start-up; registering again is idempotent and gives the ids the catalog must say.
    const registryUrl = process.env.SCHEMA_REGISTRY_URL;
    const ids = registryUrl ? await registerEventSchemas(registryUrl) : undefined;
    const expected = schemaCatalogEntries(ids);
    const messages = await readTopic(catalog.topics.schemas.name, expected.length, 20_000);
    const published = new Map(
      messages.map((message) => [message.key!.toString(), JSON.parse(message.value!.toString())]),
    );
    for (const entry of expected) expect(published.get(entry.fingerprint)).toEqual(entry);
  });

  it("serves the writer schema a record's ce_dataschema names", async () => {
    const record = toRecord('InferenceCompleted', SAMPLE_EVENTS.InferenceCompleted, { source: 'urn:test' });
    const fingerprint = record.headers.ce_dataschema!.split(':').pop();
    const response = await fetch(`${baseUrl}/schemas/${fingerprint}`);
    expect(response.status).toBe(200);
    const entry = (await response.json()) as { schema: unknown };
    expect(entry).toMatchObject({
      name: 'tributary.inferences.InferenceCompleted',
      version: getEventContract('InferenceCompleted').latestVersion,
    });
    expect(entry.schema).toEqual(getEventContract('InferenceCompleted').latest.schema);
  });

  it("serves each schema's registry id, which the registry resolves to the same schema", async () => {
    const registryUrl = process.env.SCHEMA_REGISTRY_URL;
    if (!registryUrl) return; // a given stack without a registry: the catalog carries no ids
    const list = (await (await fetch(`${baseUrl}/schemas`)).json()) as { fingerprint: string; registryId?: number }[];
    const client = new SchemaRegistryClient(registryUrl);
    for (const summary of list) {
      expect(summary.registryId).toEqual(expect.any(Number));
      const { schema } = await client.schemaById(summary.registryId!);
      const entry = (await (await fetch(`${baseUrl}/schemas/${summary.fingerprint}`)).json()) as { schema: unknown };
      expect(JSON.parse(schema)).toEqual(entry.schema);
    }
  });

  it('serves a schema by name and version, and lists them all', async () => {
    const v1 = await fetch(`${baseUrl}/schemas/tributary.inferences.InferenceCompleted/versions/1`);
    expect(v1.status).toBe(200);
    expect(((await v1.json()) as { fingerprint: string }).fingerprint).toBe(
      getEventContract('InferenceCompleted').versions.get(1)!.fingerprintSha256,
    );
    const list = (await (await fetch(`${baseUrl}/schemas`)).json()) as unknown[];
    expect(list).toHaveLength(schemaCatalogEntries().length);
  });

  it('answers 400 for a malformed fingerprint and 404 for an unknown one, naming the field', async () => {
    const malformed = await fetch(`${baseUrl}/schemas/not-hex`);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ field: 'fingerprint' });
    const unknown = await fetch(`${baseUrl}/schemas/${'0'.repeat(64)}`);
    expect(unknown.status).toBe(404);
    expect((await fetch(`${baseUrl}/schemas/tributary.inferences.InferenceCompleted/versions/99`)).status).toBe(404);
  });
});
