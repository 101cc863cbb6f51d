// Proves the projector end to end on a real KRaft broker and PostgreSQL, each projector its own OS
// process: a poison record goes to the DLQ while the next lands; 25,000 decisions with 8 credits each
// (9 entries) plus payouts give the same digest, with no entry missing or doubled, whether the projector
// is killed with SIGKILL four times while it applies, runs clean, or runs as two instances of one group
// rebalancing mid-stream; duplicates change nothing; an overdrawing payout raises the alert metric; and
// a rebuild beside the live projector gives the live digest and is swapped in while the live one keeps
// applying new records.
import { Client } from 'pg';
import { type Producer } from 'kafkajs';
import { catalogFor, deadLetterTopicName, deadLetterTopicSpec, toRecord, topicCatalog } from '@tributary/contracts';
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
import { rebuild, swap, type RebuildOptions } from '../src/operations/rebuild';
import { decision, payoutFailed, payoutRequested, payoutSettled } from './fixtures';

const MAIN = 'services/ledger-projector/src/main.ts';
const STREAM_DECISIONS = 25_000;
/**
 * The stream goes out in this many slices, and each fault lands while the projectors apply one of them:
 * every crash and both rebalances happen mid-stream by construction, not by timing luck, so the stream
 * needs only enough records for each slice to take a few batches.
 */
const STREAM_SLICES = 5;
/** Three projectors fold the stream each on a shared 2-core machine, and verify its 225,000 entries each. */
const STREAM_TEST_TIMEOUT_MS = 600_000;
const ENTRIES_PER_DECISION = 9;

describe('the ledger projector', () => {
  const prefix = `${uniqueName('t')}.`;
  const catalog = catalogFor(prefix);
  const attributions = catalog.topics.attributions.name;
  const payouts = catalog.topics.payouts.name;
  const groups = { killed: catalog.groups.ledgerProjector, clean: `${prefix}clean`, pair: `${prefix}pair` };
  const databases: Record<keyof typeof groups, TestDatabase | undefined> = {
    killed: undefined,
    clean: undefined,
    pair: undefined,
  };
  const sql: Partial<Record<keyof typeof groups, Client>> = {};
  const processes: ServiceProcess[] = [];
  let producer: Producer;

  const start = async (name: keyof typeof groups) => {
    const projector = startServiceProcess(
      MAIN,
      {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
        DATABASE_URL: databases[name]!.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        LEDGER_PROJECTOR_GROUP_ID: groups[name],
        LEDGER_PROJECTOR_HTTP_PORT: '0',
        LEDGER_PROJECTOR_LAG_SAMPLE_MS: '500',
        CONSUMER_BATCH_SIZE_MAX: '500',
        // The broker's minimum: a killed member leaves the group within seconds, so restarts rejoin quickly.
        CONSUMER_SESSION_TIMEOUT_MS: '6000',
        CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
      },
      `ledger-projector-${name}`,
    );
    processes.push(projector);
    await eventually(() => expect(projector.output()).toMatch(/ledger-projector ready/), 60_000);
    return projector;
  };
  const count = async (name: keyof typeof groups, query: string, params: unknown[] = []) =>
    Number((await sql[name]!.query(query, params)).rows[0].count);
  const publish = async (eventType: Parameters<typeof toRecord>[0], events: unknown[]) => {
    for (let first = 0; first < events.length; first += 2_000) {
      const records = events
        .slice(first, first + 2_000)
        .map((data) => toRecord(eventType, data as never, { source: 'urn:tributary:test', topicPrefix: prefix }));
      await producer.send({
        topic: records[0]!.topic,
        acks: -1,
        messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      });
    }
  };
  const applied = (name: keyof typeof groups) => count(name, 'SELECT count(*) FROM applied_events');

  beforeAll(async () => {
    await withAdmin((admin) =>
      ensureTopics(
        admin,
        [...topicCatalog(catalog), deadLetterTopicSpec(groups.clean), deadLetterTopicSpec(groups.pair)],
        1,
      ),
    );
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (const name of Object.keys(groups) as Array<keyof typeof groups>) {
      databases[name] = await createTestDatabase(`projector_${name}`);
      sql[name] = new Client({ connectionString: databases[name].url, options: '-c search_path=ledger' });
      await sql[name].connect();
    }
  });

  afterAll(async () => {
    for (const projector of processes) await projector.stop();
    await producer?.disconnect();
    for (const name of Object.keys(groups) as Array<keyof typeof groups>) {
      await sql[name]?.end();
      await databases[name]?.drop();
    }
  });

  it('sends a poison record to the DLQ with its reason and source, and still applies the next record', async () => {
    await start('killed');
    const good = decision(-1);
    await producer.send({ topic: attributions, acks: -1, messages: [{ key: good.inferenceId, value: '{not avro' }] });
    await publish('InferenceAttributed', [{ ...good, eventId: 'unbalanced', postings: good.postings.slice(1) }, good]);
    await eventually(async () =>
      expect(
        await count('killed', 'SELECT count(*) FROM ledger_entries WHERE source_event_id = $1', [good.eventId]),
      ).toBe(ENTRIES_PER_DECISION),
    );
    const dead = await readTopic(deadLetterTopicName(groups.killed), 2);
    expect(dead.map((message) => message.headers?.[DLQ_HEADERS.reason]?.toString())).toEqual([
      '(no ce_type): content-type: must be application/avro or application/vnd.tributary.avro+confluent',
      expect.stringMatching(/^postings in USDC sum to -\d+, not 0/),
    ]);
    for (const message of dead) expect(message.headers?.[DLQ_HEADERS.sourceTopic]?.toString()).toBe(attributions);
  });

  it(
    'gives one digest whether killed four times, run clean, or run as two instances rebalancing; duplicates change nothing',
    async () => {
      const clean = await start('clean');
      const pairFirst = await start('pair');
      const decisions = Array.from({ length: STREAM_DECISIONS }, (_, index) => decision(index));
      const sliceSize = STREAM_DECISIONS / STREAM_SLICES;
      const appliedAtCrash: number[] = [];
      let pairSecond: ServiceProcess | null = null;
      for (let slice = 0; slice < STREAM_SLICES; slice += 1) {
        await publish('InferenceAttributed', decisions.slice(slice * sliceSize, (slice + 1) * sliceSize));
        if (slice === STREAM_SLICES - 1) break;
        // Once the killed projector is applying this slice (1 is the record of the first test), kill it at a random point.
        await eventually(
          async () => expect(await applied('killed')).toBeGreaterThan(1 + slice * sliceSize),
          120_000,
          50,
        );
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 1_000)));
        await processes
          .find((p) => p.child.exitCode === null && p.output().includes(`group ${groups.killed} consuming`))!
          .crash();
        appliedAtCrash.push(await applied('killed'));
        if (slice === 0) pairSecond = await start('pair'); // a second member joins: the pair's group rebalances mid-stream
        if (slice === 2) await pairFirst.stop(); // and the first leaves: it rebalances again
        await start('killed');
      }
      // Duplicates: a slice of the stream published again, same keys, same event ids.
      await publish('InferenceAttributed', decisions.slice(100, 600));
      const total = STREAM_DECISIONS + 1;
      for (const name of ['killed', 'clean', 'pair'] as const)
        await eventually(async () => expect(await applied(name)).toBe(total), 300_000);
      for (const count of appliedAtCrash) expect(count).toBeGreaterThan(1);

      // Payouts once every attribution is in: two settle, one fails, one would overdraw.
      const balance = BigInt(
        (await sql.clean!.query(`SELECT balance_minor FROM accounts WHERE account = 'contributor:c1'`)).rows[0]
          .balance_minor,
      );
      await publish('PayoutRequested', [
        payoutRequested('p1', 'contributor:c1', balance / 2n),
        payoutRequested('p2', 'contributor:c2', 100n),
        payoutRequested('p3', 'contributor:c3', 100n),
      ]);
      await publish('PayoutSettled', [payoutSettled('p1', 'contributor:c1'), payoutSettled('p2', 'contributor:c2')]);
      await publish('PayoutFailed', [payoutFailed('p3', 'contributor:c3')]);
      await publish('PayoutRequested', [payoutRequested('p4', 'contributor:c1', balance)]);
      for (const name of ['killed', 'clean', 'pair'] as const)
        await eventually(async () => expect(await applied(name)).toBe(total + 6), 60_000);

      const digests = await Promise.all(
        (['killed', 'clean', 'pair'] as const).map((name) => readDigest(sql[name]!, 'ledger')),
      );
      expect(new Set(digests).size).toBe(1);
      for (const name of ['killed', 'clean', 'pair'] as const) {
        const doubled = await sql[name]!.query(
          `SELECT transaction_id FROM ledger_entries WHERE transaction_id LIKE 'inf-%' GROUP BY transaction_id HAVING count(*) <> ${ENTRIES_PER_DECISION} LIMIT 5`,
        );
        expect(doubled.rows).toEqual([]);
        expect(await count(name, `SELECT count(*) FROM ledger_entries WHERE transaction_id LIKE 'inf-%'`)).toBe(
          total * ENTRIES_PER_DECISION,
        );
        expect((await verifyLedger(sql[name]!, 'ledger')).ok).toBe(true);
      }
      expect(
        (
          await readTopic(
            deadLetterTopicName(groups.clean),
            (m) => m.headers?.[DLQ_HEADERS.reason]?.toString().startsWith('amountMinor') === true,
          )
        ).length,
      ).toBeGreaterThan(0);

      const port = /health at http:\/\/[^:]+:(\d+)\//.exec(clean.output())![1];
      await eventually(async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metrics).toContain('ledger_invariant_violations_total{rule="payout-overdraft"} 1');
        expect(metrics).toMatch(
          new RegExp(`ledger_events_applied_total\\{topic="${attributions.replace(/\./g, '\\.')}"\\} \\d+`),
        );
        expect(metrics).toContain('ledger_batch_duration_seconds_count');
        expect(metrics).toMatch(/ledger_projection_lag_records\{topic="[^"]+",partition="\d"\} 0/);
      });
      void pairSecond;
    },
    STREAM_TEST_TIMEOUT_MS,
  );

  it('rebuilds beside the live projector to the live digest, and swaps it in while the live one keeps applying', async () => {
    const options: RebuildOptions = {
      databaseUrl: databases.killed!.url,
      brokers: process.env.KAFKA_BROKERS!.split(','),
      clientId: 'test',
      groupId: groups.killed,
      topics: [attributions, payouts, catalog.topics.funding.name],
      schema: 'ledger_rebuild_test',
      batchSizeMax: 2_000,
      partitionsConcurrently: 3,
      // Small fetches, so every partition is read in many fetches, as on a long log.
      fetchBytesPerPartitionMax: 64 * 1024,
    };
    // The rebuild in two worker processes (each owns half the partitions); the swap below catches up in this one.
    const rebuilt = await rebuild({ ...options, workers: 2 });
    expect(rebuilt).toEqual(
      expect.objectContaining({ matches: true, rebuildDigest: await readDigest(sql.killed!, 'ledger') }),
    );
    const more = Array.from({ length: 2_000 }, (_, index) => decision(STREAM_DECISIONS + index));
    const publishing = publish('InferenceAttributed', more);
    const swapped = await swap(options);
    await publishing;
    expect(swapped.retiredSchema).toMatch(/^ledger_retired_\d{14}$/);
    const expected = STREAM_DECISIONS + 1 + 6 + more.length;
    for (const name of ['killed', 'clean'] as const)
      await eventually(async () => expect(await applied(name)).toBe(expected), 60_000);
    expect(await readDigest(sql.killed!, 'ledger')).toBe(await readDigest(sql.clean!, 'ledger'));
    expect(await count('killed', `SELECT count(*) FROM pg_namespace WHERE nspname = 'ledger_rebuild_test'`)).toBe(0);
    // The rebuild projects without its deferred indexes (two primary keys, two secondary indexes); the schema swapped in has every index the migration made.
    const indexes = async (schema: string) =>
      (await sql.killed!.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, [schema])).rows.map(
        (row: { indexname: string }) => row.indexname,
      );
    expect(await indexes('ledger')).toEqual(await indexes(swapped.retiredSchema));
    expect(await indexes('ledger')).toEqual(
      expect.arrayContaining([
        'ledger_entries_pkey',
        'contribution_credits_pkey',
        'ledger_entries_account_idx',
        'contribution_credits_contribution_idx',
      ]),
    );
  });
});
