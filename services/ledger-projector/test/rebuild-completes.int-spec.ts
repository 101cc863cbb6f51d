// Proves a rebuild either finishes with the live digest or stops, in bounded time, naming what it could
// not reach; never hangs silently. Real KRaft broker and PostgreSQL, the live projector its own process:
// (a) a payout on a partition of one worker that depends on attributions in a partition of the other:
//     live accepts it, and a rebuild in two workers gives the live digest (attributions before payouts in
//     every worker, a barrier);
// (b) a transactional log (commit markers, an aborted transaction) holding a record live dead-lettered,
//     with records past where live stands: the rebuild counts the refusal, reaches the live offsets and
//     gives the live digest, in one process and in two;
// (c) a target past the end of its partition stops the rebuild at once, the CLI with a non-zero exit;
//     partitions that cannot move (their batches wait on a lock) stop it within the stall timeout; each
//     named with topic, partition and offset; an open transaction at the end of a partition does not
//     hold up a rebuild to the end of the log (it stops at the last stable offset);
// (d) on a non-terminal the CLI prints progress lines (applied, rate, ETA, the slowest partition);
// (e) a record PostgreSQL refuses (a NUL in an account id: SQLSTATE 22021) amid good ones is found and
//     refused alone, as the live transport does, and the partition goes on.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import type { Producer } from 'kafkajs';
import { catalogFor, deadLetterTopicName, toRecord, topicCatalog } from '@tributary/contracts';
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
import { readDigest } from '../src/operations/ledger-queries';
import { rebuild, type RebuildOptions } from '../src/operations/rebuild';
import { decision, payoutRequested, payoutSettled } from './fixtures';

const REPO_ROOT = path.resolve(__dirname, '../../..');
/** Decisions in the one attribution partition the payout depends on: enough that its worker is still busy when the other worker could apply the payout. */
const BARRIER_DECISIONS = 3_000;
const TEST_TIMEOUT_MS = 300_000;

type Published = Parameters<typeof toRecord>;

describe('a rebuild never hangs silently', () => {
  const prefix = `${uniqueName('rb')}.`;
  const catalog = catalogFor(prefix);
  const attributions = catalog.topics.attributions.name;
  const payouts = catalog.topics.payouts.name;
  const group = catalog.groups.ledgerProjector;
  let database: TestDatabase;
  let sql: Client;
  let producer: Producer;
  let live: ServiceProcess | null = null;

  const message = (eventType: Published[0], data: unknown, partition: number) => {
    const record = toRecord(eventType, data as never, { source: 'urn:tributary:test', topicPrefix: prefix });
    return {
      topic: record.topic,
      message: { key: record.key, value: record.value, headers: record.headers, partition },
    };
  };
  /** Sends to a chosen partition, so which worker owns a record is decided by the test. */
  const publish = async (eventType: Published[0], events: unknown[], partition: number) => {
    for (let first = 0; first < events.length; first += 1_000) {
      const messages = events.slice(first, first + 1_000).map((data) => message(eventType, data, partition));
      await producer.send({ topic: messages[0]!.topic, acks: -1, messages: messages.map((m) => m.message) });
    }
  };
  /** One Kafka transaction: its records, then a commit (or abort) marker in each partition it wrote. */
  const inTransaction = async (
    sends: Array<{ eventType: Published[0]; data: unknown; partition: number } | { raw: Buffer; partition: number }>,
    outcome: 'commit' | 'abort' = 'commit',
  ) => {
    const transactional = testKafka().producer({
      transactionalId: uniqueName('rb-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await transactional.connect();
    try {
      const transaction = await transactional.transaction();
      for (const send of sends) {
        if ('raw' in send)
          await transaction.send({
            topic: attributions,
            messages: [{ key: 'raw', value: send.raw, partition: send.partition }],
          });
        else {
          const built = message(send.eventType, send.data, send.partition);
          await transaction.send({ topic: built.topic, messages: [built.message] });
        }
      }
      await (outcome === 'commit' ? transaction.commit() : transaction.abort());
    } finally {
      await transactional.disconnect();
    }
  };
  const count = async (query: string, params: unknown[] = []) => Number((await sql.query(query, params)).rows[0].count);
  const applied = () => count('SELECT count(*) FROM ledger.applied_events');
  const liveOffsetsAtEnd = async () => {
    const ends = await withAdmin(async (admin) => [
      ...(await admin.fetchTopicOffsets(attributions)).map((p) => ({ topic: attributions, ...p })),
      ...(await admin.fetchTopicOffsets(payouts)).map((p) => ({ topic: payouts, ...p })),
    ]);
    const stored = (
      await sql.query('SELECT topic, partition, next_offset FROM ledger.consumer_offsets WHERE group_id = $1', [group])
    ).rows as Array<{ topic: string; partition: number; next_offset: string }>;
    return ends
      .filter((end) => end.high !== '0')
      .every((end) =>
        stored.some(
          (row) => row.topic === end.topic && row.partition === end.partition && row.next_offset === end.high,
        ),
      );
  };
  const options = (schema: string, extra: Partial<RebuildOptions> = {}): RebuildOptions => ({
    databaseUrl: database.url,
    brokers: process.env.KAFKA_BROKERS!.split(','),
    clientId: 'test',
    groupId: group,
    topics: [attributions, payouts, catalog.topics.funding.name],
    schema,
    batchSizeMax: 500,
    partitionsConcurrently: 3,
    // Small fetches: every partition is read in many fetches, and one worker's share takes a while.
    fetchBytesPerPartitionMax: 32 * 1024,
    stallTimeoutMs: 20_000,
    ...extra,
  });
  /** The ledger CLI as an operator runs it, with pipes for stdout and stderr: not a terminal. */
  const cli = (args: string[], env: Record<string, string> = {}, timeoutMs = 120_000) =>
    new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
      const startedMs = Date.now();
      const child = spawn(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          '-r',
          'tsconfig-paths/register',
          'services/ledger-projector/src/cli.ts',
          ...args,
        ],
        {
          cwd: REPO_ROOT,
          env: {
            ...process.env,
            TS_NODE_TRANSPILE_ONLY: 'true',
            DATABASE_URL: database.url,
            TRIBUTARY_TOPIC_PREFIX: prefix,
            LEDGER_PROJECTOR_GROUP_ID: group,
            ...env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: Date.now() - startedMs });
      });
    });

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    database = await createTestDatabase('rebuild_completes');
    sql = new Client({ connectionString: database.url });
    await sql.connect();
    live = startServiceProcess(
      'services/ledger-projector/src/main.ts',
      {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        LEDGER_PROJECTOR_HTTP_PORT: '0',
        CONSUMER_BATCH_SIZE_MAX: '500',
        CONSUMER_SESSION_TIMEOUT_MS: '6000',
        CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
      },
      'ledger-projector-rebuild-completes',
    );
    await eventually(() => expect(live!.output()).toMatch(/ledger-projector ready/), 60_000);
  });

  afterAll(async () => {
    await live?.stop();
    await producer?.disconnect();
    await sql?.end();
    await database?.drop();
  });

  it(
    '(a) applies attributions before payouts in every worker: a payout live accepted is accepted by a two-worker rebuild',
    async () => {
      // Every attribution in partition 1 (worker 1 of 2); the last one credits a large fee, so the payout
      // of its first contributor's whole balance is covered only once partition 1 is applied to its end.
      const last = BARRIER_DECISIONS - 1;
      const decisions = Array.from({ length: BARRIER_DECISIONS }, (_, index) =>
        index === last ? decision(index, 1_000_000_000n) : decision(index),
      );
      await publish('InferenceAttributed', decisions, 1);
      await eventually(async () => expect(await applied()).toBe(BARRIER_DECISIONS), 180_000);
      const account = `contributor:c${(last * 7) % 50}`;
      const balance = BigInt(
        (await sql.query(`SELECT balance_minor FROM ledger.accounts WHERE account = $1`, [account])).rows[0]
          .balance_minor,
      );
      // The payout in partition 0 (worker 0), whose attribution partitions are empty.
      await publish('PayoutRequested', [payoutRequested('barrier-1', account, balance)], 0);
      await publish('PayoutSettled', [payoutSettled('barrier-1', account)], 0);
      await eventually(
        async () =>
          expect((await sql.query(`SELECT status FROM ledger.payouts WHERE payout_id = 'barrier-1'`)).rows).toEqual([
            { status: 'SETTLED' },
          ]),
        60_000,
      );
      await eventually(async () => expect(await liveOffsetsAtEnd()).toBe(true), 60_000);

      const result = await rebuild(options('ledger_rebuild_barrier', { workers: 2 }));
      expect(result).toEqual(
        expect.objectContaining({ matches: true, rejected: 0, liveDigest: await readDigest(sql, 'ledger') }),
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '(b) rebuilds a transactional log holding a dead-lettered record, with records past the live position, to the live digest',
    async () => {
      const base = 10_000;
      const poison = decision(base + 999);
      // Committed transactions in partitions 2 and 3, one of them holding a record live refuses.
      for (let round = 0; round < 4; round += 1) {
        const sends = Array.from({ length: 50 }, (_, index) => ({
          eventType: 'InferenceAttributed' as const,
          data: decision(base + round * 50 + index),
          partition: 2 + (index % 2),
        }));
        if (round === 2)
          sends.splice(10, 0, {
            eventType: 'InferenceAttributed' as const,
            data: { ...poison, eventId: 'rb-unbalanced', postings: poison.postings.slice(1) },
            partition: 2,
          });
        await inTransaction(sends);
      }
      // A partition whose last records are an aborted transaction: its end is an abort marker no handler sees.
      await inTransaction(
        [
          { eventType: 'InferenceAttributed', data: decision(base + 900), partition: 3 },
          { eventType: 'InferenceAttributed', data: decision(base + 901), partition: 3 },
        ],
        'abort',
      );
      await eventually(async () => expect(await applied()).toBe(BARRIER_DECISIONS + 2 + 200), 120_000);
      const dead = await readTopic(deadLetterTopicName(group), 1);
      expect(dead.map((m) => m.headers?.[DLQ_HEADERS.reason]?.toString())).toEqual([
        expect.stringMatching(/^postings in USDC sum to -\d+, not 0/),
      ]);
      await eventually(async () => expect(await liveOffsetsAtEnd()).toBe(true), 60_000);

      // Live stops where it stands (as when it crashed on a record); the log goes on past that point.
      await live!.stop();
      live = null;
      const liveDigest = await readDigest(sql, 'ledger');
      await inTransaction(
        Array.from({ length: 40 }, (_, index) => ({
          eventType: 'InferenceAttributed' as const,
          data: decision(base + 500 + index),
          partition: 2 + (index % 2),
        })),
      );

      const single = await rebuild(options('ledger_rebuild_dlq_one', { workers: 1 }));
      expect(single).toEqual(expect.objectContaining({ matches: true, rejected: 1, liveDigest }));
      // Markers passed are stored as live stores them: the rebuilt schema's offsets end where live's do.
      const offsets = async (schema: string) =>
        (
          await sql.query(
            `SELECT topic, partition, next_offset FROM ${schema}.consumer_offsets WHERE group_id = $1 ORDER BY 1, 2`,
            [group],
          )
        ).rows;
      expect(await offsets('ledger_rebuild_dlq_one')).toEqual(await offsets('ledger'));
      const pair = await rebuild(options('ledger_rebuild_dlq_two', { workers: 2 }));
      expect(pair).toEqual(expect.objectContaining({ matches: true, rejected: 1, liveDigest }));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '(c) stops naming topic, partition and offset when a target is past the end of a partition: the CLI exits non-zero at once',
    async () => {
      // Offsets stored under another group name, one of them past the end of its partition.
      const forged = `${group}.forged`;
      await sql.query(
        `INSERT INTO ledger.consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, 1, 50), ($1, $2, 5, 123456)`,
        [forged, attributions],
      );
      const run = await cli(['rebuild', '--schema', 'ledger_rebuild_forged', '--workers', '2'], {
        LEDGER_PROJECTOR_GROUP_ID: forged,
      });
      expect(run.code).not.toBe(0);
      expect(run.code).not.toBeNull();
      expect(run.stderr).toContain(`${attributions}[5]`);
      expect(run.stderr).toContain('123456');
      expect(run.ms).toBeLessThan(90_000);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '(c) stops naming topic, partition and offset when no partition moves for the stall timeout, in bounded time',
    async () => {
      // A rebuild to where live stands, then on to the end of the log ((b) left records past live) while
      // its batches wait on a lock nothing releases: the partitions behind cannot move.
      const schema = 'ledger_rebuild_locked';
      expect(await rebuild(options(schema, { workers: 1 }))).toEqual(expect.objectContaining({ matches: true }));
      const stored = (
        await sql.query(
          `SELECT next_offset FROM ledger.consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = 2`,
          [group, attributions],
        )
      ).rows[0].next_offset as string;
      const end = (await withAdmin((admin) => admin.fetchTopicOffsets(attributions))).find(
        (p) => p.partition === 2,
      )!.high;
      expect(BigInt(end)).toBeGreaterThan(BigInt(stored));
      const blocker = new Client({ connectionString: database.url });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(`LOCK TABLE ${schema}.checkpoints IN ACCESS EXCLUSIVE MODE`);
        const startedMs = Date.now();
        const failure = await rebuild(options(schema, { workers: 1, to: 'end', stallTimeoutMs: 5_000 })).then(
          () => null,
          (error: Error) => error,
        );
        expect(failure?.message).toMatch(/^rebuild stalled: no partition moved for \d+ s; /);
        expect(failure?.message).toContain(`${attributions}[2] at offset ${stored}, target ${end}`);
        // Stall timeout, then closing (each step bounded, though a batch still waits on the lock).
        expect(Date.now() - startedMs).toBeLessThan(90_000);
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await blocker.end();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '(c) runs to the end of a log whose last records are in an open transaction, stopping before them',
    async () => {
      const open = testKafka().producer({
        transactionalId: uniqueName('rb-open'),
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await open.connect();
      const transaction = await open.transaction();
      try {
        const built = message('InferenceAttributed', decision(20_000), 4);
        await transaction.send({ topic: built.topic, messages: [built.message] });
        const result = await rebuild(options('ledger_rebuild_open', { workers: 1, to: 'end' }));
        // Everything committed is applied; the open transaction's record is not (its partition ends before it for a committed reader).
        expect(result.records).toBeGreaterThan(BARRIER_DECISIONS);
        expect(
          Number(
            (
              await sql.query(
                `SELECT count(*) FROM ledger_rebuild_open.applied_events WHERE event_id = 'attributed:inf-20000'`,
              )
            ).rows[0].count,
          ),
        ).toBe(0);
      } finally {
        await transaction.abort().catch(() => undefined);
        await open.disconnect();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '(d) prints progress lines on a non-terminal and finishes with the live digest',
    async () => {
      const run = await cli([
        'rebuild',
        '--schema',
        'ledger_rebuild_cli',
        '--workers',
        '2',
        '--batch-size',
        '100',
        '--progress-interval-ms',
        '200',
      ]);
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout) as { matches: boolean; rejected: number };
      expect(result).toEqual(expect.objectContaining({ matches: true, rejected: 1 }));
      const lines = run.stderr
        .split('\n')
        .filter((line) => line.startsWith('rebuild: ') && line.includes(' records applied, '));
      // One every 200 ms while records are applied, and a last one when every partition is at its target.
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const line of lines)
        expect(line).toMatch(
          /^rebuild: [\d,]+ records applied, [\d,]+ of [\d,]+ offsets \(\d+%\), [\d,]+ records\/s, ETA \S+; slowest \S+\[\d+\] at [\d,]+ of [\d,]+(; 1 refused .*)?$/,
        );
      expect(lines[lines.length - 1]).toMatch(/ offsets \(100%\), .*ETA 0s; /);
      expect(run.stderr).not.toContain('\u001b[');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '(e) refuses alone a record PostgreSQL cannot store, and applies the records around it',
    async () => {
      const good = [decision(30_000), decision(30_001)];
      const base = decision(30_002);
      const poison = {
        ...base,
        postings: base.postings.map((posting) =>
          posting.accountId.startsWith('contributor:')
            ? { ...posting, accountId: `${posting.accountId}\u0000x` }
            : posting,
        ),
      };
      await publish('InferenceAttributed', [good[0], poison, good[1]], 5);
      const result = await rebuild(options('ledger_rebuild_nul', { workers: 2, to: 'end' }));
      // The unbalanced decision of (b), and this one.
      expect(result.rejected).toBe(2);
      const applied = (
        await sql.query(`SELECT event_id FROM ledger_rebuild_nul.applied_events WHERE event_id = ANY($1) ORDER BY 1`, [
          [...good, poison].map((d) => d.eventId),
        ])
      ).rows.map((row: { event_id: string }) => row.event_id);
      expect(applied).toEqual(good.map((d) => d.eventId).sort());
      const end = (await withAdmin((admin) => admin.fetchTopicOffsets(attributions))).find(
        (p) => p.partition === 5,
      )!.high;
      expect(
        (
          await sql.query(
            `SELECT next_offset FROM ledger_rebuild_nul.consumer_offsets WHERE topic = $1 AND partition = 5`,
            [attributions],
          )
        ).rows,
      ).toEqual([{ next_offset: end }]);
    },
    TEST_TIMEOUT_MS,
  );
});
