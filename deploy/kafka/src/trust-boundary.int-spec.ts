// Proves the secured test broker is a trust boundary, by attacking it as outsiders and as holders of
// valid keys: no credential, a wrong password and a plaintext client are refused; each principal of the
// access catalog is denied every write and group its role does not need, and nothing lands; an analytics
// reader decodes every event topic with the schema catalog and writes nowhere; a rotated password takes
// effect at once for new connections. Each denial is asserted, and the topics' end offsets prove it.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import {
  catalogFor,
  CONFLUENT_PREFIX_BYTES,
  CONTENT_TYPE_AVRO_CONFLUENT,
  EVENT_TYPES,
  eventTopics,
  parseAvroType,
  schemaCatalogEntries,
  SERVICE_PRINCIPALS,
  toRecord,
  topicCatalog,
  type EventType,
} from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  kafkaAs,
  kafkaRefusal as refusal,
  principalEnv,
  startServiceProcess,
  tryProduce,
  testBrokers,
  testKafka,
  testKafkaName,
  uniqueName,
  withAdmin,
} from '@tributary/testing';
import { SAMPLE_EVENTS } from '../../../libs/contracts/src/schemas/sample-events.fixture';
import { addAnalytics, addProducer, applyServiceAcls, revokePrincipal, rotatePassword } from './principals';
import { runKafkaCli } from './tools';

type EndOffsets = Map<string, string>;

describe('the secured broker as a trust boundary', () => {
  const prefix = `${uniqueName('trust')}.`;
  const catalog = catalogFor(prefix);
  const producerName = `acme-${randomUUID().slice(0, 6)}`;
  const analyticsName = `bi-${randomUUID().slice(0, 6)}`;
  let producerPassword: string;
  let analyticsPassword: string;

  const endOffsets = async (): Promise<EndOffsets> =>
    withAdmin(async (admin: Admin) => {
      const entries = await Promise.all(
        topicCatalog(catalog).map(async (spec) =>
          (await admin.fetchTopicOffsets(spec.name)).map(
            ({ partition, high }) => [`${spec.name}[${partition}]`, high] as const,
          ),
        ),
      );
      return new Map(entries.flat());
    });
  const record = (type: EventType) => {
    const built = toRecord(type, SAMPLE_EVENTS[type] as never, { source: 'urn:attacker', topicPrefix: prefix });
    return { topic: built.topic, messages: [{ key: built.key, value: built.value, headers: built.headers }] };
  };
  /** Publishes a sample event of the type (to its own topic, or to `topic`) and says what Kafka answered. */
  const tryPublish = async (kafka: Kafka, type: EventType, topic?: string): Promise<string> => {
    const { topic: eventTopic, messages } = record(type);
    return tryProduce(kafka, topic ?? eventTopic, messages);
  };
  const tryJoinGroup = async (kafka: Kafka, groupId: string): Promise<string> => {
    // A refused consumer must not restart itself after the test is over.
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 6_000,
      retry: { retries: 0, restartOnFailure: async () => false },
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [catalog.topics.attributions.name], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.GROUP_JOIN, () => resolve());
        consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
        consumer.run({ eachMessage: async () => undefined }).catch(reject);
      });
      return 'joined';
    } catch (error) {
      return refusal(error);
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  };

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    // Every event topic holds records, and the schema catalog its schemas, as on a live cluster.
    const operator = testKafka('trust-seed').producer();
    await operator.connect();
    for (const type of EVENT_TYPES) await operator.send({ ...record(type), acks: -1 });
    const entries = schemaCatalogEntries().map((entry) => ({ key: entry.fingerprint, value: JSON.stringify(entry) }));
    await operator.send({ topic: catalog.topics.schemas.name, acks: -1, messages: entries });
    await operator.disconnect();
    await applyServiceAcls(testKafkaName(), prefix);
    producerPassword = (
      await addProducer(testKafkaName(), producerName, ['InferenceCompleted'], prefix)
    ).password.reveal();
    analyticsPassword = (await addAnalytics(testKafkaName(), analyticsName, prefix)).password.reveal();
  });

  afterAll(async () => {
    for (const name of [producerName, analyticsName])
      await revokePrincipal(testKafkaName(), name).catch(() => undefined);
  });

  describe('a service started with a wrong or missing credential', () => {
    const mains: Record<string, string> = {
      gateway: 'services/gateway/src/main.ts',
      attribution: 'services/attribution/src/main.ts',
      'ledger-projector': 'services/ledger-projector/src/main.ts',
      payouts: 'services/payouts/src/main.ts',
      'ledger-api': 'services/ledger-api/src/main.ts',
    };

    it.each(Object.keys(mains))('%s stops with one line naming the variable, without a retry loop', async (service) => {
      const database = await createTestDatabase(`credential_${service.replace(/-/g, '_')}`);
      try {
        const started = Date.now();
        const base = { ...principalEnv(service), TRIBUTARY_TOPIC_PREFIX: prefix, DATABASE_URL: database.url };
        const wrong = startServiceProcess(
          mains[service]!,
          { ...base, KAFKA_PASSWORD: 'not-the-password' },
          `${service}-wrong-password`,
        );
        expect(await wrong.exitCode()).toBe(1);
        const missing = startServiceProcess(
          mains[service]!,
          { ...base, KAFKA_PASSWORD_FILE: '/nonexistent/password' },
          `${service}-no-password`,
        );
        expect(await missing.exitCode()).toBe(1);
        expect(wrong.output()).toMatch(
          new RegExp(
            `^${service}: invalid kafka configuration: KAFKA_USERNAME / KAFKA_PASSWORD: the broker refused the credentials`,
            'm',
          ),
        );
        expect(missing.output()).toMatch(
          new RegExp(
            `^${service}: invalid kafka configuration: KAFKA_PASSWORD_FILE: cannot read /nonexistent/password`,
            'm',
          ),
        );
        expect(wrong.output()).not.toContain('not-the-password');
        expect(Date.now() - started).toBeLessThan(90_000);
      } finally {
        await database.drop();
      }
    });
  });

  describe('a client without valid credentials', () => {
    it('is refused without credentials, with a wrong password and in plaintext, and writes nothing', async () => {
      const before = await endOffsets();
      const plaintext = new Kafka({
        clientId: 'plaintext',
        brokers: testBrokers(),
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        connectionTimeout: 3_000,
        requestTimeout: 5_000,
      });
      expect(await tryPublish(plaintext, 'InferenceCompleted')).not.toBe('accepted');
      const tlsOnly = new Kafka({
        clientId: 'tls-only',
        brokers: testBrokers(),
        ssl: { rejectUnauthorized: false },
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        connectionTimeout: 3_000,
        requestTimeout: 5_000,
      });
      expect(await tryPublish(tlsOnly, 'InferenceCompleted')).not.toBe('accepted');
      expect(await tryPublish(kafkaAs(producerName, 'wrong-password'), 'InferenceCompleted')).toBe(
        'KafkaJSSASLAuthenticationError',
      );
      expect(await tryPublish(kafkaAs('nobody', 'any-password'), 'InferenceCompleted')).toBe(
        'KafkaJSSASLAuthenticationError',
      );
      expect(await endOffsets()).toEqual(before);
    });
  });

  describe('a direct producer granted InferenceCompleted', () => {
    it('publishes inferences', async () => {
      expect(await tryPublish(kafkaAs(producerName, producerPassword), 'InferenceCompleted')).toBe('accepted');
    });

    it("is denied decisions, payout events, funding events, other input topics and the services' consumer groups; nothing lands", async () => {
      const before = await endOffsets();
      const producer = kafkaAs(producerName, producerPassword);
      expect(await tryPublish(producer, 'InferenceAttributed')).toBe('TOPIC_AUTHORIZATION_FAILED');
      expect(await tryPublish(producer, 'PayoutRequested')).toBe('TOPIC_AUTHORIZATION_FAILED');
      expect(await tryPublish(producer, 'FundsDeposited')).toBe('TOPIC_AUTHORIZATION_FAILED');
      expect(await tryPublish(producer, 'ContributionValidated')).toBe('TOPIC_AUTHORIZATION_FAILED');
      expect(await tryJoinGroup(producer, catalog.groups.ledgerProjector)).toMatch(/AUTHORIZATION_FAILED/);
      expect(await tryJoinGroup(producer, catalog.groups.attribution)).toMatch(/AUTHORIZATION_FAILED/);
      expect(await endOffsets()).toEqual(before);
    });

    it('after a password rotation: the old password is refused, the new one works', async () => {
      const rotated = (await rotatePassword(testKafkaName(), producerName)).reveal();
      expect(await tryPublish(kafkaAs(producerName, producerPassword), 'InferenceCompleted')).toBe(
        'KafkaJSSASLAuthenticationError',
      );
      expect(await tryPublish(kafkaAs(producerName, rotated), 'InferenceCompleted')).toBe('accepted');
      producerPassword = rotated;
    });
  });

  describe("the services' own principals", () => {
    it('only attribution writes decisions, only payouts writes payout and funding events; nothing else lands', async () => {
      const before = await endOffsets();
      const outcomes: Record<string, [string, string, string]> = {};
      for (const service of SERVICE_PRINCIPALS) {
        outcomes[service] = [
          await tryPublish(kafkaAs(service), 'InferenceAttributed'),
          await tryPublish(kafkaAs(service), 'PayoutRequested'),
          await tryPublish(kafkaAs(service), 'FundsDeposited'),
        ];
      }
      const denied = 'TOPIC_AUTHORIZATION_FAILED';
      expect(outcomes).toEqual({
        gateway: [denied, denied, denied],
        attribution: ['accepted', denied, denied],
        'ledger-projector': [denied, denied, denied],
        payouts: [denied, 'accepted', 'accepted'],
        'ledger-api': [denied, denied, denied],
      });
      const after = await endOffsets();
      const grown = [...after]
        .filter(([partition, offset]) => before.get(partition) !== offset)
        .map(([partition]) => partition.replace(/\[\d+\]$/, ''));
      expect([...new Set(grown)].sort()).toEqual(
        [catalog.topics.attributions.name, catalog.topics.funding.name, catalog.topics.payouts.name].sort(),
      );
    });
  });

  describe("Kafka's own tools", () => {
    it("list the catalog's ACLs with kafka-acls --list, as the operator", async () => {
      const listed = await runKafkaCli('kafka-acls', [
        '--bootstrap-server',
        testBrokers().join(','),
        '--command-config',
        process.env.KAFKA_COMMAND_CONFIG!,
        '--list',
        '--topic',
        catalog.topics.attributions.name,
      ]);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/principal=User:attribution, host=\*, operation=WRITE, permissionType=ALLOW/);
      expect(listed.stdout).not.toMatch(/principal=User:(?!attribution)[^,]+, host=\*, operation=WRITE/);
    });
  });

  describe('an analytics reader', () => {
    it('reads every event topic and decodes each record with the writer schema from the schema catalog', async () => {
      const reader = kafkaAs(analyticsName, analyticsPassword);
      const group = () => `${prefix}analytics.${analyticsName}.${randomUUID().slice(0, 6)}`;
      const schemas = new Map(
        (await readAll(reader, catalog.topics.schemas.name, group())).map((message) => {
          const entry = JSON.parse(message.value!.toString('utf8')) as { fingerprint: string; schema: object };
          return [entry.fingerprint, parseAvroType(entry.schema as never)] as const;
        }),
      );
      for (const topic of eventTopics(catalog)) {
        const messages = await readAll(reader, topic, group());
        expect([topic, messages.length > 0]).toEqual([topic, true]);
        for (const message of messages) {
          const fingerprint = String(message.headers?.ce_dataschema).split(':').pop()!;
          // Raw Avro, or Confluent-framed (a zero byte and the registry id first): content-type says which.
          const framed = String(message.headers?.['content-type']) === CONTENT_TYPE_AVRO_CONFLUENT;
          const body = framed ? message.value!.subarray(CONFLUENT_PREFIX_BYTES) : message.value!;
          const decoded = schemas.get(fingerprint)!.fromBuffer(body) as { eventId: string };
          expect(decoded.eventId).toBe(String(message.headers?.ce_id));
        }
      }
    });

    it('writes nowhere and joins no group outside analytics.<name>.', async () => {
      const before = await endOffsets();
      const reader = kafkaAs(analyticsName, analyticsPassword);
      for (const type of [
        'InferenceCompleted',
        'DatanetCreated',
        'InferenceAttributed',
        'PayoutSettled',
        'FundsDeposited',
      ] as const) {
        expect([type, await tryPublish(reader, type)]).toEqual([type, 'TOPIC_AUTHORIZATION_FAILED']);
      }
      expect(await tryPublish(reader, 'InferenceCompleted', catalog.topics.schemas.name)).toBe(
        'TOPIC_AUTHORIZATION_FAILED',
      );
      // kafkajs reports the broker's GROUP_AUTHORIZATION_FAILED on FindCoordinator as "coordinator not
      // found"; the same reader joining a group under its own prefix shows the coordinator is there.
      expect(await tryJoinGroup(reader, `${prefix}analytics.someone-else.g`)).toMatch(
        /AUTHORIZATION_FAILED|KafkaJSGroupCoordinatorNotFound/,
      );
      expect(await tryJoinGroup(reader, catalog.groups.ledgerProjector)).toMatch(
        /AUTHORIZATION_FAILED|KafkaJSGroupCoordinatorNotFound/,
      );
      expect(await tryJoinGroup(reader, `${prefix}analytics.${analyticsName}.g`)).toBe('joined');
      expect(await endOffsets()).toEqual(before);
    });
  });
});

/** Every record of a topic, read with a consumer of the given group until the topic's end. */
async function readAll(kafka: Kafka, topic: string, groupId: string): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const remaining = new Map(
    ends.filter(({ high }) => high !== '0').map(({ partition, high }) => [partition, BigInt(high)]),
  );
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6_000 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic}: not read to its end in 30 s`)), 30_000);
      if (remaining.size === 0) {
        clearTimeout(timer);
        resolve();
      }
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            messages.push(message);
            if (BigInt(message.offset) + 1n >= (remaining.get(partition) ?? 0n)) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
