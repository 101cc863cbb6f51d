// Proves the projector's side of backed credits on a real broker and PostgreSQL, the projector running
// as its own OS process: decisions of two producers (and one written before decisions named their
// producer) plus deposits and a chargeback on the funding topic give the right per-producer totals
// (producer_funding) and per-account credits by producer (producer_credits); a funding event published
// twice is applied once; a funding record that cannot be read, one reusing an applied id with other
// content, and a decision published on the funding topic go to the projector's DLQ with their reasons;
// a rebuild from offset 0 reproduces both tables and the digest; the ledger still verifies.
import { Client } from 'pg';
import type { Producer } from 'kafkajs';
import {
  catalogFor,
  deadLetterTopicName,
  toRecord,
  topicCatalog,
  type FundsDeposited,
  type FundsReversed,
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
import { readDigest, verifyLedger } from '../src/operations/ledger-queries';
import { rebuild } from '../src/operations/rebuild';
import { decision } from './fixtures';

const MAIN = 'services/ledger-projector/src/main.ts';
const ALICE = 'urn:tributary:producer:alice';
const BOB = 'urn:tributary:producer:bob';
const DECISIONS = 60;

const deposit = (eventId: string, producer: string, amountMinor: bigint): FundsDeposited => ({
  eventId,
  producer,
  occurredAt: 1_760_000_000_000n,
  asset: 'USDC',
  amountMinor,
  railReference: `wire-${eventId}`,
});
const chargeback = (
  eventId: string,
  producer: string,
  amountMinor: bigint,
  reversesEventId: string | null,
): FundsReversed => ({
  eventId,
  producer,
  occurredAt: 1_760_000_000_000n,
  asset: 'USDC',
  amountMinor,
  railReference: `case-${eventId}`,
  reason: 'card chargeback 4837',
  reversesEventId,
});

describe('the ledger projector and the funding topic', () => {
  const prefix = `${uniqueName('fund')}.`;
  const catalog = catalogFor(prefix);
  const group = catalog.groups.ledgerProjector;
  const funding = catalog.topics.funding.name;
  let database: TestDatabase;
  let sql: Client;
  let producer: Producer;
  let projector: ServiceProcess | undefined;

  const publish = async (eventType: Parameters<typeof toRecord>[0], events: unknown[]) => {
    const records = events.map((data) =>
      toRecord(eventType, data as never, { source: 'urn:tributary:test', topicPrefix: prefix }),
    );
    await producer.send({
      topic: records[0]!.topic,
      acks: -1,
      messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    });
  };
  const rows = async <T>(query: string, params: unknown[] = []): Promise<T[]> =>
    (await sql.query(query, params)).rows as T[];
  const applied = async () =>
    Number((await rows<{ count: string }>('SELECT count(*) FROM ledger.applied_events'))[0]!.count);

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    database = await createTestDatabase('projector_funding');
    sql = new Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await projector?.stop();
    await producer?.disconnect();
    await sql?.end();
    await database?.drop();
  });

  it('keeps per-producer totals live, applies a funding event once, dead-letters bad funding records, and rebuilds to the same tables and digest', async () => {
    projector = startServiceProcess(
      MAIN,
      {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        LEDGER_PROJECTOR_GROUP_ID: group,
        LEDGER_PROJECTOR_HTTP_PORT: '0',
        CONSUMER_BATCH_SIZE_MAX: '50',
      },
      'ledger-projector-funding',
    );
    await eventually(() => expect(projector!.output()).toMatch(/ledger-projector ready/), 60_000);
    await eventually(
      () =>
        expect(projector!.output()).toContain(
          `consuming ${catalog.topics.attributions.name}, ${catalog.topics.payouts.name}, ${funding}`,
        ),
      30_000,
    );

    // Decisions: even ones by Alice, odd ones by Bob, and one written before decisions named a producer.
    const decisions: InferenceAttributed[] = Array.from({ length: DECISIONS }, (_, index) => ({
      ...decision(index),
      producer: index % 2 === 0 ? ALICE : BOB,
    }));
    const legacy: InferenceAttributed = { ...decision(DECISIONS), producer: null };
    await publish('InferenceAttributed', [...decisions, legacy]);
    const deposits = [
      deposit('dep-a1', ALICE, 300_000n),
      deposit('dep-a2', ALICE, 5_000n),
      deposit('dep-b1', BOB, 120_000n),
    ];
    await publish('FundsDeposited', deposits);
    await publish('FundsReversed', [chargeback('cb-a1', ALICE, 40_000n, 'dep-a1')]);
    // A re-delivery of a deposit (same id, same content): applied once.
    await publish('FundsDeposited', [deposits[2]!]);
    // Refused: not Avro; an applied id reused with other content; a decision on the funding topic.
    await producer.send({ topic: funding, acks: -1, messages: [{ key: BOB, value: '{not avro' }] });
    await publish('FundsDeposited', [{ ...deposits[0]!, amountMinor: 999_999n }]);
    const misplaced = toRecord(
      'InferenceAttributed',
      { ...decision(DECISIONS + 1), producer: ALICE },
      { source: 'urn:tributary:test', topicPrefix: prefix },
    );
    await producer.send({
      topic: funding,
      acks: -1,
      messages: [{ key: ALICE, value: misplaced.value, headers: misplaced.headers }],
    });
    // Something after the refusals, so the partitions are seen to move past them.
    await publish('FundsDeposited', [deposit('dep-b2', BOB, 1n)]);

    await eventually(async () => expect(await applied()).toBe(DECISIONS + 1 + 5), 60_000);

    const feesOf = (list: InferenceAttributed[]) => list.reduce((sum, item) => sum + item.feeMinor, 0n);
    const alice = decisions.filter((item) => item.producer === ALICE);
    const bob = decisions.filter((item) => item.producer === BOB);
    await eventually(async () => {
      const totals = await rows<Record<string, string>>(
        'SELECT producer, asset, fees_minor::text, credited_minor::text, deposits_minor::text, chargebacks_minor::text FROM ledger.producer_funding ORDER BY producer',
      );
      expect(totals).toEqual([
        {
          producer: '',
          asset: 'USDC',
          fees_minor: String(legacy.feeMinor),
          credited_minor: String(legacy.feeMinor),
          deposits_minor: '0',
          chargebacks_minor: '0',
        },
        {
          producer: ALICE,
          asset: 'USDC',
          fees_minor: String(feesOf(alice)),
          credited_minor: String(feesOf(alice)),
          deposits_minor: '305000',
          chargebacks_minor: '40000',
        },
        {
          producer: BOB,
          asset: 'USDC',
          fees_minor: String(feesOf(bob)),
          credited_minor: String(feesOf(bob)),
          deposits_minor: '120001',
          chargebacks_minor: '0',
        },
      ]);
    }, 30_000);

    // Per account and producer: the postings of that producer's decisions (never the consumer's debit).
    const expected = new Map<string, bigint>();
    for (const item of [...decisions, legacy]) {
      for (const posting of item.postings) {
        const key = `${posting.accountId}|${item.producer ?? ''}|${posting.asset}`;
        expected.set(key, (expected.get(key) ?? 0n) + posting.amountMinor);
      }
    }
    const credits = await rows<{ account: string; producer: string; asset: string; credited_minor: string }>(
      'SELECT account, producer, asset, credited_minor::text FROM ledger.producer_credits',
    );
    expect(
      new Map(credits.map((row) => [`${row.account}|${row.producer}|${row.asset}`, BigInt(row.credited_minor)])),
    ).toEqual(expected);
    expect(credits.some((row) => row.account.startsWith('consumer:'))).toBe(false);
    // Summed over producers, an account's credits are its balance (no payouts here).
    const drift = await rows(
      'SELECT a.account FROM ledger.accounts a LEFT JOIN (SELECT account, asset, sum(credited_minor) AS total FROM ledger.producer_credits GROUP BY 1, 2) c USING (account, asset) WHERE a.role <> $1 AND a.balance_minor IS DISTINCT FROM c.total',
      ['consumer'],
    );
    expect(drift).toEqual([]);

    // Funding makes no entries; its partitions are counted (events applied, offsets) in checkpoints.
    expect(
      Number(
        (
          await rows<{ count: string }>('SELECT count(*) FROM ledger.ledger_entries WHERE source_topic = $1', [funding])
        )[0]!.count,
      ),
    ).toBe(0);
    expect(
      Number(
        (
          await rows<{ total: string }>(
            'SELECT coalesce(sum(event_count), 0)::text AS total FROM ledger.checkpoints WHERE source_topic = $1',
            [funding],
          )
        )[0]!.total,
      ),
    ).toBe(5);
    expect((await verifyLedger(sql, 'ledger')).ok).toBe(true);

    const dead = await readTopic(deadLetterTopicName(group), 3, 30_000);
    const reasons = dead
      .filter((message) => message.headers?.[DLQ_HEADERS.sourceTopic]?.toString() === funding)
      .map((message) => message.headers?.[DLQ_HEADERS.reason]?.toString() ?? '');
    expect(reasons).toHaveLength(3);
    expect(reasons).toEqual(
      expect.arrayContaining([
        '(no ce_type): content-type: must be application/avro or application/vnd.tributary.avro+confluent',
        expect.stringMatching(
          /^eventId: dep-a1 was already applied from .*tributary\.funding\[\d+\]@\d+ with content sha256:[0-9a-f]{64}; this record's content is sha256:[0-9a-f]{64}/,
        ),
        expect.stringMatching(/^ce_type: .*InferenceAttributed.* does not belong on .*tributary\.funding$/),
      ]),
    );

    // A rebuild from offset 0 (two workers) reaches the same tables and the same digest.
    const schema = 'ledger_rebuild_funding';
    const rebuilt = await rebuild({
      databaseUrl: database.url,
      brokers: process.env.KAFKA_BROKERS!.split(','),
      clientId: 'test',
      groupId: group,
      topics: [catalog.topics.attributions.name, catalog.topics.payouts.name, funding],
      schema,
      batchSizeMax: 7,
      partitionsConcurrently: 3,
      workers: 2,
    });
    const liveDigest = await readDigest(sql, 'ledger');
    expect(rebuilt).toEqual(expect.objectContaining({ matches: true, rebuildDigest: liveDigest, rejected: 3 }));
    for (const table of [
      'producer_funding ORDER BY producer, asset',
      'producer_credits ORDER BY account, producer, asset',
    ]) {
      expect(await rows(`SELECT * FROM ${schema}.${table}`)).toEqual(await rows(`SELECT * FROM ledger.${table}`));
    }
    // The digest covers the funding totals: a rebuild without a chargeback would not have matched.
    await sql.query(`UPDATE ${schema}.producer_funding SET chargebacks_minor = 0 WHERE producer = $1`, [ALICE]);
    expect(await readDigest(sql, schema)).not.toBe(liveDigest);
  }, 240_000);
});
