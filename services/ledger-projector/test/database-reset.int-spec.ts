// Proves the projector rebuilds the whole ledger when its database was reset while the broker kept the
// group's offsets (a restored or recreated database): PostgreSQL's stored offsets are the authoritative
// position, so with none stored it starts from the beginning of each partition, not from the offsets it
// last committed to Kafka for lag tools. Real KRaft broker and PostgreSQL, the projector its own process.
import { Client } from 'pg';
import { catalogFor, toRecord, topicCatalog } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  eventually,
  startServiceProcess,
  testKafka,
  uniqueName,
  withAdmin,
  type TestDatabase,
} from '@tributary/testing';
import { readDigest } from '../src/operations/ledger-queries';
import { decision } from './fixtures';

const DECISIONS = 2_000;

describe('the ledger projector on a database reset under a group that committed offsets', () => {
  const prefix = `${uniqueName('t')}.`;
  const catalog = catalogFor(prefix);
  let database: TestDatabase;
  let sql: Client;
  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });

  const startProjector = async () => {
    const projector = startServiceProcess(
      'services/ledger-projector/src/main.ts',
      {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        LEDGER_PROJECTOR_HTTP_PORT: '0',
        CONSUMER_SESSION_TIMEOUT_MS: '6000',
        CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
        // Kafka's copy gets the first batch's offsets at once and, within this test, nothing more until
        // the projector stops: the copy checked after stop() is the one its shutdown flushed.
        CONSUMER_LAG_COMMIT_INTERVAL_MS: '60000',
      },
      'ledger-projector-reset',
    );
    await eventually(() => expect(projector.output()).toMatch(/ledger-projector ready/), 60_000);
    return projector;
  };
  const applied = async () => Number((await sql.query('SELECT count(*) FROM ledger.applied_events')).rows[0].count);

  it('applies every event again from the beginning and reaches the same digest', async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const records = Array.from({ length: DECISIONS }, (_, index) =>
      toRecord('InferenceAttributed', decision(index), { source: 'urn:tributary:test', topicPrefix: prefix }),
    );
    await producer.send({
      topic: catalog.topics.attributions.name,
      acks: -1,
      messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    });
    await producer.disconnect();
    database = await createTestDatabase('projector_reset');
    sql = new Client({ connectionString: database.url });
    await sql.connect();

    const first = await startProjector();
    await eventually(async () => expect(await applied()).toBe(DECISIONS), 120_000);
    const digest = await readDigest(sql, 'ledger');
    await first.stop();
    const committed = await withAdmin((admin) =>
      admin.fetchOffsets({ groupId: catalog.groups.ledgerProjector, topics: [catalog.topics.attributions.name] }),
    );
    expect(committed[0]!.partitions.reduce((sum, partition) => sum + Number(partition.offset), 0)).toBe(DECISIONS);

    // The database is reset; the broker keeps the group's offsets at the end of every partition.
    await sql.query('DROP SCHEMA ledger CASCADE');
    const second = await startProjector();
    try {
      await eventually(async () => expect(await applied()).toBe(DECISIONS), 120_000);
      expect(await readDigest(sql, 'ledger')).toBe(digest);
    } finally {
      await second.stop();
    }
  }, 300_000);
});
