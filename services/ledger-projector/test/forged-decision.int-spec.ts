// Proves that a decision forged straight into Kafka never reaches the ledger, by replaying the attack
// that once credited an outsider: a balanced InferenceAttributed crediting contributor:mallory with
// 1,000,000,000 minor units is published with every principal but the attribution service's (each
// service's own, a direct producer's, an analytics reader's), while the projector runs as its own
// principal; each attempt is refused by the broker, and a real decision published after them is applied
// with no trace of mallory anywhere in the ledger.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { Kafka } from 'kafkajs';
import { catalogFor, SERVICE_PRINCIPALS, toRecord, topicCatalog, type InferenceAttributed } from '@tributary/contracts';
import { addAnalytics, addProducer, applyServiceAcls, revokePrincipal } from '@tributary/kafka-provisioner';
import { ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  eventually,
  kafkaAs,
  principalEnv,
  startServiceProcess,
  testKafkaName,
  tryProduce,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { decision } from './fixtures';

const MALLORY = 'contributor:mallory';

/** The decision of the attack: balanced, so it passes every ledger rule; only who wrote it gives it away. */
function forgedDecision(): InferenceAttributed {
  const base = decision(424_242, 1_000_000_000n);
  return {
    ...base,
    eventId: `attributed:forged-${randomUUID()}`,
    inferenceId: `forged-${randomUUID()}`,
    consumerId: 'made-up-consumer',
    postings: [{ accountId: MALLORY, asset: 'USDC', amountMinor: 1_000_000_000n }],
    rejected: [],
  };
}

describe('a decision forged straight into Kafka', () => {
  const prefix = `${uniqueName('forge')}.`;
  const catalog = catalogFor(prefix);
  const producerName = `forger-${randomUUID().slice(0, 6)}`;
  const analyticsName = `peek-${randomUUID().slice(0, 6)}`;
  const attackers: Array<[string, () => Kafka]> = [];
  let database: TestDatabase;
  let sql: Client;
  let projector: ServiceProcess;

  const publish = (kafka: Kafka, event: InferenceAttributed): Promise<string> => {
    const record = toRecord('InferenceAttributed', event, { source: 'urn:tributary:attribution', topicPrefix: prefix });
    return tryProduce(kafka, record.topic, [{ key: record.key, value: record.value, headers: record.headers }]);
  };

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    await applyServiceAcls(testKafkaName(), prefix);
    const producerPassword = (
      await addProducer(testKafkaName(), producerName, ['InferenceCompleted'], prefix)
    ).password.reveal();
    const analyticsPassword = (await addAnalytics(testKafkaName(), analyticsName, prefix)).password.reveal();
    for (const service of SERVICE_PRINCIPALS.filter((name) => name !== 'attribution'))
      attackers.push([service, () => kafkaAs(service)]);
    attackers.push(
      [producerName, () => kafkaAs(producerName, producerPassword)],
      [analyticsName, () => kafkaAs(analyticsName, analyticsPassword)],
    );
    database = await createTestDatabase('forged_decision');
    sql = new Client({ connectionString: database.url, options: '-c search_path=ledger' });
    await sql.connect();
    projector = startServiceProcess(
      'services/ledger-projector/src/main.ts',
      {
        ...principalEnv('ledger-projector'),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        LEDGER_PROJECTOR_HTTP_PORT: '0',
      },
      'ledger-projector-forged',
    );
    await eventually(() => expect(projector.output()).toMatch(/ledger-projector ready/), 60_000);
  });

  afterAll(async () => {
    await projector?.stop();
    await sql?.end();
    await database?.drop();
    for (const name of [producerName, analyticsName])
      await revokePrincipal(testKafkaName(), name).catch(() => undefined);
  });

  it("is refused for every principal but attribution's, and never credits mallory", async () => {
    const outcomes = [];
    for (const [name, kafka] of attackers) outcomes.push([name, await publish(kafka(), forgedDecision())]);
    expect(outcomes).toEqual(attackers.map(([name]) => [name, 'TOPIC_AUTHORIZATION_FAILED']));
    const genuine = decision(7);
    expect(await publish(kafkaAs('attribution'), genuine)).toBe('accepted');
    await eventually(async () => {
      const applied = await sql.query('SELECT count(*)::int AS count FROM ledger_entries WHERE source_event_id = $1', [
        genuine.eventId,
      ]);
      expect(applied.rows[0].count).toBeGreaterThan(0);
    }, 60_000);
    const mallory = await sql.query('SELECT count(*)::int AS count FROM ledger_entries WHERE account = $1', [MALLORY]);
    expect(mallory.rows[0].count).toBe(0);
    // The projector, as its own principal, read and wrote all it needed: no refusal in its log.
    expect(projector.output()).not.toMatch(/AUTHORIZATION_FAILED|not authorized/i);
  });
});
