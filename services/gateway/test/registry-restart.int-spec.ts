// Proves that the schema registry is needed at start-up only, and loses nothing when it restarts: a gateway
// started against a registry of this file's own frames every record with the registry's id of its writer
// schema; with the registry stopped it keeps accepting events and framing them with the same ids; the
// registry started again (its data in PostgreSQL) answers every id as before, and a gateway started
// against it then frames with the very same ids.
import type { KafkaMessage } from 'kafkajs';
import {
  catalogFor,
  CONTENT_TYPE_AVRO_CONFLUENT,
  fromRecord,
  schemaCatalogEntries,
  topicCatalog,
} from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { dropDatabase, withDatabase } from '@tributary/local-stack';
import { registryDatabaseName, startRegistry, type RunningRegistry } from '@tributary/registry-provisioner';
import { registerEventSchemas } from '@tributary/schema-registry';
import {
  createTestDatabase,
  headersOf,
  readTopic,
  testBrokers,
  uniqueName,
  withAdmin,
  type TestDatabase,
} from '@tributary/testing';
import { inference, keyRepository, post, scope, startGateway, type RunningGateway } from './gateway-harness';

jest.setTimeout(240_000);

const NAME = 'it-registry-restart';
const PORT = Number(process.env.TEST_REGISTRY_PORT ?? 18081) + 4;

describe('the schema registry restarting under a running gateway', () => {
  const prefix = `${uniqueName('regrestart')}.`;
  const topic = `${prefix}tributary.inferences`;
  let database: TestDatabase;
  let registry: RunningRegistry;
  let gateway: RunningGateway | undefined;
  let key: string;
  let ids: Map<string, number>;
  const latest = schemaCatalogEntries()
    .filter((entry) => entry.eventType === 'InferenceCompleted')
    .at(-1)!;

  const start = () => startRegistry({ name: NAME, port: PORT, ownerDatabaseUrl: database.url });
  const startGatewayHere = () =>
    startGateway(
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        SCHEMA_REGISTRY_URL: registry.ccompatUrl,
        GATEWAY_INSTANCE_ID: uniqueName('regrestart'),
      },
      'gateway-registry-restart',
    );
  /** Sends one inference and answers the registry id its record on the topic was framed with. */
  const sendAndReadFrame = async () => {
    const sent = inference();
    expect((await post(`${gateway!.baseUrl}/events/InferenceCompleted`, sent, key)).status).toBe(202);
    const sentHere = (candidate: KafkaMessage) => candidate.key?.toString() === sent.inferenceId;
    const message = (await readTopic(topic, sentHere)).find(sentHere);
    expect(message?.key?.toString()).toBe(sent.inferenceId);
    const headers = headersOf(message!);
    expect(headers['content-type']).toBe(CONTENT_TYPE_AVRO_CONFLUENT);
    const decoded = fromRecord(message!.value, headers);
    expect(decoded.data).toMatchObject({ inferenceId: sent.inferenceId });
    return decoded.schemaId;
  };

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalogFor(prefix)), 1));
    database = await createTestDatabase('gateway');
    const keys = await keyRepository(database.url);
    key = (await keys.repository.create(scope('producer-registry-restart'))).key;
    await keys.close();
    registry = await start();
    ids = await registerEventSchemas(registry.ccompatUrl);
    gateway = await startGatewayHere();
  });

  afterAll(async () => {
    await gateway?.process.stop();
    await registry?.stop();
    if (!database) return;
    await dropDatabase(withDatabase(new URL(database.url), registryDatabaseName(database.url))).catch(() => undefined);
    await database.drop();
  });

  it('frames with the registry ids, keeps producing while the registry is down, and keeps the ids after', async () => {
    const id = ids.get(latest.fingerprint)!;
    expect(await sendAndReadFrame()).toBe(id);

    await registry.stop();
    await expect(fetch(`${registry.ccompatUrl}/subjects`)).rejects.toThrow();
    // The ids were taken at start-up: the gateway needs no registry to go on writing.
    expect(await sendAndReadFrame()).toBe(id);
    expect(await sendAndReadFrame()).toBe(id);

    registry = await start();
    expect([...(await registerEventSchemas(registry.ccompatUrl))]).toEqual([...ids]);
    await gateway!.process.stop();
    gateway = await startGatewayHere();
    expect(await sendAndReadFrame()).toBe(id);
  });
});
