// Proves the batch transport's safety net on a real broker and PostgreSQL: a decision the schema accepts
// but PostgreSQL cannot store (a NUL character in an account id: SQLSTATE 22021) sits between two good
// decisions in one batch. The projector used to retry the batch 8 times and exit, and met the same
// record on every restart; now the failure is recognised as the record's by its SQLSTATE, the batch is
// split until that record stands alone, it goes to the DLQ with its SQLSTATE and message, both good
// decisions are applied once, and the projector keeps running.
import { Client } from 'pg';
import type { Producer } from 'kafkajs';
import {
  catalogFor,
  deadLetterTopicName,
  toRecord,
  topicCatalog,
  type InferenceAttributed,
} from '@tributary/contracts';
import { DLQ_HEADERS, ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  eventually,
  readTopic,
  startServiceProcess,
  testKafka,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { decision } from './fixtures';

describe('a record PostgreSQL refuses, in the middle of a batch', () => {
  const prefix = `${uniqueName('nul')}.`;
  const catalog = catalogFor(prefix);
  let database: TestDatabase;
  let sql: Client;
  let producer: Producer;
  let projector: ServiceProcess;

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    database = await createTestDatabase('poison_isolation');
    sql = new Client({ connectionString: database.url, options: '-c search_path=ledger' });
    await sql.connect();
    projector = startServiceProcess(
      'services/ledger-projector/src/main.ts',
      {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        LEDGER_PROJECTOR_HTTP_PORT: '0',
        CONSUMER_HANDLER_RETRY_BACKOFF_MS: '50',
      },
      'ledger-projector-nul',
    );
    await eventually(() => expect(projector.output()).toMatch(/ledger-projector ready/), 60_000);
  });

  afterAll(async () => {
    await projector?.stop();
    await producer?.disconnect();
    await sql?.end();
    await database?.drop();
  });

  it('dead-letters that record alone with its SQLSTATE, applies its neighbours, and keeps running', async () => {
    const before = decision(1);
    const after = decision(2);
    const base = decision(3);
    const poison: InferenceAttributed = {
      ...base,
      postings: base.postings.map((posting) =>
        posting.accountId.startsWith('contributor:')
          ? { ...posting, accountId: `${posting.accountId}\u0000x` }
          : posting,
      ),
    };
    const records = [before, poison, after].map((data) =>
      toRecord('InferenceAttributed', data, { source: 'urn:tributary:attribution', topicPrefix: prefix }),
    );
    // One send to one partition: the three records arrive in one batch.
    await producer.send({
      topic: catalog.topics.attributions.name,
      acks: -1,
      messages: records.map((record) => ({
        key: 'same-partition',
        value: record.value,
        headers: record.headers,
        partition: 0,
      })),
    });

    await eventually(async () => {
      const applied = await sql.query('SELECT event_id FROM applied_events ORDER BY event_id');
      expect(applied.rows.map((row) => row.event_id)).toEqual([before.eventId, after.eventId]);
    }, 90_000);
    const [dead] = await readTopic(deadLetterTopicName(catalog.groups.ledgerProjector), 1);
    expect(dead!.headers?.[DLQ_HEADERS.reason]?.toString()).toMatch(
      /^SQLSTATE 22021: .*0x00.* \(the handler failed on this record alone\)$/,
    );
    expect(dead!.headers?.[DLQ_HEADERS.sourceOffset]?.toString()).toBe('1');
    expect(dead!.value?.equals(records[1]!.value)).toBe(true);
    expect(projector.child.exitCode).toBeNull();
    expect(projector.output()).not.toMatch(/failed \d+ times|stopped:/);
    // The stored position is past all three: nothing is applied twice after a restart.
    const offsets = await sql.query(
      'SELECT next_offset::int AS next FROM consumer_offsets WHERE partition = 0 AND topic = $1',
      [catalog.topics.attributions.name],
    );
    expect(offsets.rows).toEqual([{ next: 3 }]);
  });
});
