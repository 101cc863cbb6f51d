// Proves the first vertical slice end to end on a real KRaft broker and a real PostgreSQL: the projector,
// run as its own process, turns records published with plain kafkajs into ledger rows, sends a poison
// record to its DLQ while the next record still lands, and applies every record exactly once through
// repeated kill -9 mid-batch, with the group's offsets visible to Kafka's own tooling.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Producer } from 'kafkajs';
import { catalogFor, deadLetterTopicName, toRecord, topicCatalog, type InferenceAttributed } from '@tributary/contracts';
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

const MAIN = 'services/ledger-projector/src/main.ts';

/** An InferenceAttributed decision splitting `feeMinor` between the protocol (10%) and the model owner. */
function decision(inferenceId: string, feeMinor: bigint, eventId = `attributed:${inferenceId}`): InferenceAttributed {
  const protocolMinor = feeMinor / 10n;
  return {
    eventId,
    inferenceId,
    occurredAt: 1_760_000_000_000n,
    inferenceEventId: `evt-${inferenceId}`,
    policyVersion: 1,
    modelId: 'm1',
    consumerId: 'c1',
    asset: 'USDC',
    feeMinor,
    split: { protocolBps: 1000, modelBps: 9000, dataBps: 0 },
    postings: [
      { accountId: 'model-owner:m1', asset: 'USDC', amountMinor: feeMinor - protocolMinor },
      { accountId: 'protocol', asset: 'USDC', amountMinor: protocolMinor },
    ],
    rejected: [],
    contributionsSeen: [],
    datanetsSeen: [],
    orderingRule: 'largest-remainder; ties by accountId ascending',
  };
}

describe('the ledger projector slice', () => {
  const prefix = `${uniqueName('t')}.`;
  const catalog = catalogFor(prefix);
  const topic = catalog.topics.attributions.name;
  const groupId = catalog.groups.ledgerProjector;
  let database: TestDatabase;
  let sql: Client;
  let producer: Producer;
  let projector: ServiceProcess | null = null;

  const env = () => ({
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    DATABASE_URL: database.url,
    TRIBUTARY_TOPIC_PREFIX: prefix,
    LEDGER_PROJECTOR_HTTP_PORT: '0',
    CONSUMER_BATCH_SIZE_MAX: '100',
    // The broker's minimum: a killed member leaves the group within seconds, so restarts rejoin quickly.
    CONSUMER_SESSION_TIMEOUT_MS: '6000',
    CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
  });
  const start = async () => {
    projector = startServiceProcess(MAIN, env(), 'ledger-projector');
    await eventually(() => expect(projector!.output()).toContain(`group ${groupId} consuming`), 60_000);
  };
  const count = async (query: string, params: unknown[] = []) => Number((await sql.query(query, params)).rows[0].count);
  /** Publishes decisions as the attribution service does: Avro value, CloudEvents headers, key = inference id. */
  const publish = (decisions: InferenceAttributed[]) =>
    producer.send({
      topic,
      acks: -1,
      messages: decisions.map((data) => {
        const record = toRecord('InferenceAttributed', data, { source: 'urn:tributary:test', topicPrefix: prefix });
        return { key: record.key, value: record.value, headers: record.headers };
      }),
    });
  const publishRaw = (key: string, value: string) => producer.send({ topic, acks: -1, messages: [{ key, value }] });

  beforeAll(async () => {
    database = await createTestDatabase('projector');
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await start();
    sql = new Client({ connectionString: database.url, options: '-c search_path=ledger' });
    await sql.connect();
  });

  afterAll(async () => {
    await projector?.stop();
    await producer?.disconnect();
    await sql?.end();
    await database?.drop();
  });

  it('writes the postings of a published attribution as ledger rows', async () => {
    const eventId = `attributed:${randomUUID()}`;
    await publish([decision('inference-1', 1_000n, eventId)]);
    await eventually(async () => {
      const rows = await sql.query('SELECT account, amount_minor FROM ledger_entries WHERE source_event_id = $1 ORDER BY account', [eventId]);
      expect(rows.rows).toEqual([
        { account: 'consumer:c1', amount_minor: '-1000' },
        { account: 'model-owner:m1', amount_minor: '900' },
        { account: 'protocol', amount_minor: '100' },
      ]);
    });
  });

  it('sends a poison record to the DLQ with its reason and source, and still applies the next record', async () => {
    const inferenceId = randomUUID();
    const goodId = `attributed:${inferenceId}`;
    const unbalanced = { ...decision(inferenceId, 50n, 'unbalanced'), postings: decision(inferenceId, 50n).postings.slice(0, 1) };
    await publishRaw(inferenceId, '{not avro');
    await publish([unbalanced, decision(inferenceId, 70n)]);
    await eventually(async () => expect(await count('SELECT count(*) FROM ledger_entries WHERE source_event_id = $1', [goodId])).toBe(3));
    const dead = await readTopic(deadLetterTopicName(groupId), 2);
    expect(dead).toHaveLength(2);
    const reasons = dead.map((message) => message.headers?.[DLQ_HEADERS.reason]?.toString());
    expect(reasons[0]).toBe('(no ce_type): content-type: must be application/avro');
    expect(reasons[1]).toBe('postings in USDC sum to -5, not 0: every ledger transaction must balance per asset');
    for (const message of dead) {
      expect(message.headers?.[DLQ_HEADERS.sourceTopic]?.toString()).toBe(topic);
      expect(message.headers?.[DLQ_HEADERS.consumerGroup]?.toString()).toBe(groupId);
      expect(message.headers?.[DLQ_HEADERS.sourceOffset]?.toString()).toMatch(/^\d+$/);
    }
    expect(dead[0]!.value?.toString()).toBe('{not avro');
  });

  it('applies a re-published event id only once', async () => {
    const eventId = `attributed:${randomUUID()}`;
    // The same decision re-published, once on its own key and once under another key (another partition).
    await publish([decision('dup-0', 10n, eventId), decision('dup-1', 10n, eventId)]);
    const marker = `attributed:${randomUUID()}`;
    await publish([decision('dup-0', 10n, marker)]);
    await publish([decision('dup-1', 10n, marker)]);
    await eventually(async () => expect(await count('SELECT count(*) FROM applied_events WHERE event_id = $1', [marker])).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await count('SELECT count(*) FROM ledger_entries WHERE source_event_id = $1', [eventId])).toBe(3);
    expect(await count('SELECT count(*) FROM ledger_entries WHERE source_event_id = $1', [marker])).toBe(3);
  });

  it('applies every record exactly once when killed with SIGKILL mid-batch, again and again', async () => {
    const recordCount = 12_000;
    const before = await count('SELECT count(*) FROM applied_events');
    const ids = Array.from({ length: recordCount }, () => randomUUID());
    for (let start = 0; start < recordCount; start += 2_000) {
      await publish(ids.slice(start, start + 2_000).map((id) => decision(id, 1_000n)));
    }
    const appliedAtCrash: number[] = [];
    for (let crash = 0; crash < 4; crash += 1) {
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(Math.random() * 1_200)));
      await projector!.crash();
      appliedAtCrash.push((await count('SELECT count(*) FROM applied_events')) - before);
      await start();
    }
    // The kills landed while the stream was flowing, not before it started or after it ended.
    expect(appliedAtCrash.some((applied) => applied > 0 && applied < recordCount)).toBe(true);
    await eventually(async () => expect(await count('SELECT count(*) FROM applied_events')).toBe(before + recordCount), 120_000);
    const doubled = await sql.query(
      `SELECT source_event_id FROM ledger_entries GROUP BY source_event_id HAVING count(*) <> 3 LIMIT 5`,
    );
    expect(doubled.rows).toEqual([]);
    const balance = await sql.query(`SELECT sum(amount_minor)::text AS total FROM ledger_entries`);
    expect(balance.rows[0].total).toBe('0');

    // Kafka's own view of the group (what kafka-consumer-groups --describe reads) catches up with the database's.
    await eventually(async () => {
      const stored = await sql.query('SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2', [groupId, topic]);
      const committed = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
      const inKafka = new Map(committed[0]!.partitions.map((p) => [p.partition, p.offset]));
      for (const row of stored.rows) expect(inKafka.get(row.partition)).toBe(String(row.next_offset));
      const ends = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
      for (const end of ends) expect(inKafka.get(end.partition) ?? '-1').toBe(end.high === '0' ? '-1' : end.high);
    }, 60_000);
  });
});
