// Proves a log written before and after the Confluent framing is rebuilt to the same ledger digest as an
// all-raw log of the same events. Real KRaft broker and PostgreSQL:
// - the mixed log, in Kafka: decisions, a payout and deposits written raw (`application/avro`, as every
//   record before the schema registry), then more of each framed (a zero byte and a registry id before the
//   Avro body), among them re-deliveries of events first written raw (a producer retrying across the
//   upgrade) and a fee above 2^53;
// - the all-raw reference: the same events at the same offsets, every one raw, projected into another
//   database the way the live consumer does;
// the live projector (its own process) and a rebuild of the mixed log (in one process, and in two worker
// processes) refuse nothing, apply each re-delivery once, keep the large fee exact, and reach the
// reference's digest. The ids come from a
// fixed book: readers find the writer schema by its fingerprint, so no registry takes part.
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { Producer } from 'kafkajs';
import {
  catalogFor,
  CONTENT_TYPE_AVRO,
  deadLetterTopicName,
  CONTENT_TYPE_AVRO_CONFLUENT,
  toRecord,
  topicCatalog,
  type FundsDeposited,
  type SchemaIdBook,
} from '@tributary/contracts';
import { ensureTopics, type InboundRecord, type Rejection } from '@tributary/messaging';
import { ensureSchema } from '@tributary/persistence';
import {
  createTestDatabase,
  eventually,
  fixedSchemaIds,
  readTopic,
  startServiceProcess,
  testKafka,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { dataSourceOptions } from '../src/database/data-source-options';
import { readDigest } from '../src/operations/ledger-queries';
import { rebuild, type RebuildOptions } from '../src/operations/rebuild';
import { decision, payoutRequested, payoutSettled, projectionDriver } from './fixtures';

const TEST_TIMEOUT_MS = 240_000;
const SCHEMA_IDS = fixedSchemaIds(1001);
const PRODUCER = 'urn:tributary:producer:fixtures';
/** Above 2^53: a double would round it; the ledger must hold it exactly. */
const LARGE_FEE = 2n ** 60n + 7n;

type EventType = Parameters<typeof toRecord>[0];
/** One record of the log: what it holds, where it goes, and which framing it is written with. */
interface Written {
  readonly eventType: EventType;
  readonly data: unknown;
  readonly topicKey: 'attributions' | 'payouts' | 'funding';
  readonly partition: number;
  readonly framed: boolean;
}

const deposit = (eventId: string, amountMinor: bigint): FundsDeposited => ({
  eventId,
  producer: PRODUCER,
  occurredAt: 1_760_000_000_000n,
  asset: 'USDC',
  amountMinor,
  railReference: `wire-${eventId}`,
});

/** The log, in the order it is written: raw before the change, framed after, re-deliveries across it. */
function theLog(): Written[] {
  const attribution = (sequence: number, framed: boolean, feeMinor?: bigint): Written => ({
    eventType: 'InferenceAttributed',
    data: feeMinor === undefined ? decision(sequence) : decision(sequence, feeMinor),
    topicKey: 'attributions',
    partition: sequence % 3,
    framed,
  });
  const before: Written[] = [
    ...Array.from({ length: 150 }, (_, sequence) => attribution(sequence, false)),
    {
      eventType: 'PayoutRequested',
      data: payoutRequested('mixed-1', 'contributor:c0', 500n),
      topicKey: 'payouts',
      partition: 0,
      framed: false,
    },
    {
      eventType: 'FundsDeposited',
      data: deposit('dep-before', 1_000_000n),
      topicKey: 'funding',
      partition: 0,
      framed: false,
    },
  ];
  const after: Written[] = [
    ...Array.from({ length: 150 }, (_, index) => attribution(150 + index, true)),
    attribution(300, true, LARGE_FEE),
    // Re-deliveries of events first written raw: the same events, so applied once.
    ...[3, 4, 5, 149].map((sequence) => attribution(sequence, true)),
    {
      eventType: 'PayoutSettled',
      data: payoutSettled('mixed-1', 'contributor:c0'),
      topicKey: 'payouts',
      partition: 0,
      framed: true,
    },
    {
      eventType: 'FundsDeposited',
      data: deposit('dep-after', 250_000n),
      topicKey: 'funding',
      partition: 0,
      framed: true,
    },
    {
      eventType: 'FundsDeposited',
      data: deposit('dep-before', 1_000_000n),
      topicKey: 'funding',
      partition: 0,
      framed: true,
    },
  ];
  return [...before, ...after];
}

describe('a log written before and after the Confluent framing', () => {
  const prefix = `${uniqueName('mf')}.`;
  const catalog = catalogFor(prefix);
  const topics = {
    attributions: catalog.topics.attributions.name,
    payouts: catalog.topics.payouts.name,
    funding: catalog.topics.funding.name,
  };
  const log = theLog();
  let mixed: TestDatabase;
  let reference: TestDatabase;
  let referenceSource: DataSource;
  let producer: Producer;
  let mixedSql: Client;
  let live: ServiceProcess | null = null;
  const distinctEvents = (written: readonly Written[]) =>
    new Set(written.map((one) => (one.data as { eventId: string }).eventId)).size;
  const applied = async () =>
    Number((await mixedSql.query('SELECT count(*) FROM ledger.applied_events')).rows[0].count);
  const write = async (written: readonly Written[]) => {
    // One send per record, in log order: each record's offset is its place in its partition.
    for (const one of written) {
      const record = recordOf(one, one.framed ? SCHEMA_IDS : null);
      await producer.send({
        topic: record.topic,
        acks: -1,
        messages: [{ key: record.key, value: record.value, headers: record.headers, partition: one.partition }],
      });
    }
  };

  const recordOf = (written: Written, schemaIds: SchemaIdBook | null) =>
    toRecord(written.eventType, written.data as never, {
      source: 'urn:tributary:test',
      topicPrefix: prefix,
      schemaIds,
    });

  /** The log's records of one topic and partition, in order, each at its offset, all raw: what the reference projects. */
  const rawInbound = (topicKey: Written['topicKey'], partition: number): InboundRecord[] =>
    log
      .filter((written) => written.topicKey === topicKey && written.partition === partition)
      .map((written, offset) => {
        const record = recordOf(written, null);
        return {
          topic: record.topic,
          partition,
          offset: String(offset),
          key: Buffer.from(record.key),
          value: record.value,
          headers: record.headers,
          timestampMs: 1_760_000_000_000,
        };
      });

  const rebuildOptions = (schema: string, workers: number): RebuildOptions => ({
    databaseUrl: mixed.url,
    brokers: process.env.KAFKA_BROKERS!.split(','),
    clientId: 'test',
    groupId: catalog.groups.ledgerProjector,
    topics: [topics.attributions, topics.payouts, topics.funding],
    schema,
    batchSizeMax: 50,
    partitionsConcurrently: 3,
    to: 'end',
    workers,
  });

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    mixed = await createTestDatabase('mixed_framing');
    mixedSql = new Client({ connectionString: mixed.url });
    await mixedSql.connect();
    // Payouts last, once the live projector has applied the credits they draw on (as a rebuild does).
    const credits = log.filter((written) => written.topicKey !== 'payouts');
    await write(credits);
    live = startServiceProcess(
      'services/ledger-projector/src/main.ts',
      {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
        DATABASE_URL: mixed.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        LEDGER_PROJECTOR_HTTP_PORT: '0',
        CONSUMER_SESSION_TIMEOUT_MS: '6000',
        CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
      },
      'ledger-projector-mixed-framing',
    );
    await eventually(() => expect(live!.output()).toMatch(/ledger-projector ready/), 60_000);
    await eventually(async () => expect(await applied()).toBe(distinctEvents(credits)), 120_000);
    await write(log.filter((written) => written.topicKey === 'payouts'));
    await eventually(async () => expect(await applied()).toBe(distinctEvents(log)), 60_000);

    reference = await createTestDatabase('all_raw');
    await ensureSchema(reference.url, 'ledger');
    referenceSource = await new DataSource(dataSourceOptions(reference.url, 2)).initialize();
    const rejections: Rejection[] = [];
    const driver = projectionDriver(
      () => referenceSource,
      { rejected: () => undefined, invariantViolated: () => undefined },
      rejections,
    );
    // As a rebuild applies them: every attribution, then payouts, then funding.
    for (const topicKey of ['attributions', 'payouts', 'funding'] as const)
      for (let partition = 0; partition < 3; partition += 1) {
        const records = rawInbound(topicKey, partition);
        if (records.length > 0) await driver.apply(records);
      }
    expect(rejections).toEqual([]);
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await live?.stop();
    await producer?.disconnect();
    await mixedSql?.end();
    await referenceSource?.destroy();
    await mixed?.drop();
    await reference?.drop();
  });

  it('holds both framings on the wire, with the CloudEvents headers on every record', async () => {
    const records = await readTopic(topics.funding, 3);
    expect(records.map((record) => record.headers?.['content-type']?.toString())).toEqual([
      CONTENT_TYPE_AVRO,
      CONTENT_TYPE_AVRO_CONFLUENT,
      CONTENT_TYPE_AVRO_CONFLUENT,
    ]);
    for (const record of records) {
      expect(record.headers?.ce_type?.toString()).toBe('tributary.funding.FundsDeposited');
      expect(record.headers?.ce_dataschema?.toString()).toMatch(/^urn:tributary:schema:sha256:[0-9a-f]{64}$/);
    }
    expect(records[1]!.value![0]).toBe(0);
    expect(records[1]!.value!.readInt32BE(1)).toBeGreaterThanOrEqual(1001);
  });

  it('is projected live, every event once, to the digest of the same events all written raw', async () => {
    // Every record read (the re-deliveries are the last of their partitions), and none dead-lettered.
    const ends = await withAdmin(async (admin) =>
      (
        await Promise.all(
          Object.values(topics).map(async (topic) =>
            (await admin.fetchTopicOffsets(topic)).map((end) => ({ topic, partition: end.partition, next: end.high })),
          ),
        )
      ).flat(),
    );
    await eventually(async () => {
      const stored = (
        await mixedSql.query('SELECT topic, partition, next_offset FROM ledger.consumer_offsets WHERE group_id = $1', [
          catalog.groups.ledgerProjector,
        ])
      ).rows as Array<{ topic: string; partition: number; next_offset: string }>;
      for (const end of ends.filter((one) => one.next !== '0'))
        expect(stored.find((row) => row.topic === end.topic && row.partition === end.partition)?.next_offset).toBe(
          end.next,
        );
    }, 60_000);
    const dead = await withAdmin((admin) =>
      admin.fetchTopicOffsets(deadLetterTopicName(catalog.groups.ledgerProjector)),
    );
    expect(dead.map((partition) => partition.high)).toEqual(dead.map(() => '0'));
    expect(await readDigest(mixedSql, 'ledger')).toBe(await readDigest(referenceSource, 'ledger'));
    // Requested raw, settled framed.
    expect((await mixedSql.query(`SELECT status FROM ledger.payouts WHERE payout_id = 'mixed-1'`)).rows).toEqual([
      { status: 'SETTLED' },
    ]);
  });

  it(
    'is rebuilt, in one process and in two, to the digest of the same events all written raw',
    async () => {
      const expected = await readDigest(referenceSource, 'ledger');
      for (const [schema, workers] of [
        ['ledger_mixed_one', 1],
        ['ledger_mixed_two', 2],
      ] as const) {
        const result = await rebuild(rebuildOptions(schema, workers));
        expect({ schema, rejected: result.rejected, digest: result.rebuildDigest, matches: result.matches }).toEqual({
          schema,
          rejected: 0,
          digest: expected,
          matches: true,
        });
        // Every event once: the re-deliveries written framed were recognised as the events written raw.
        expect(Number((await mixedSql.query(`SELECT count(*) FROM ${schema}.applied_events`)).rows[0].count)).toBe(
          distinctEvents(log),
        );
        const protocol = await mixedSql.query(
          `SELECT balance_minor::text FROM ${schema}.accounts WHERE account = 'protocol:tributary' AND asset = 'USDC'`,
        );
        const expectedProtocol = await referenceSource.query(
          `SELECT balance_minor::text FROM ledger.accounts WHERE account = 'protocol:tributary' AND asset = 'USDC'`,
        );
        expect(protocol.rows).toEqual(expectedProtocol);
        expect(BigInt(protocol.rows[0].balance_minor)).toBeGreaterThan(LARGE_FEE / 10n);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
