// Proves, on a real PostgreSQL and driving projectBatch the way the live consumer does, that the worst
// records the schema allows neither stop the ledger nor vanish: two decisions of 2^63 - 1 minor units to
// one account give an exact balance of 2^64 - 2 (it once raised `bigint out of range` and stopped the
// projector for everyone); an event id reused with other content goes to the DLQ with both content
// hashes while a true re-delivery is skipped and counted; and an id used on one topic does not shadow
// an event with the same id on the other.
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { InferenceAttributed } from '@tributary/contracts';
import type { Rejection } from '@tributary/messaging';
import { ensureSchema } from '@tributary/persistence';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import { dataSourceOptions } from '../src/database/data-source-options';
import { readDigest, verifyLedger } from '../src/operations/ledger-queries';
import { decision, inbound, payoutRequested, projectionDriver } from './fixtures';

const LONG_MAX = 2n ** 63n - 1n;

/** A balanced decision that credits its whole fee to one contributor. */
function whaleDecision(sequence: number, feeMinor: bigint): InferenceAttributed {
  return {
    ...decision(sequence, feeMinor),
    postings: [{ accountId: 'contributor:whale', asset: 'USDC', amountMinor: feeMinor }],
    modelId: 'm-whale',
    consumerId: 'whale-consumer',
  };
}

describe('hostile records in the ledger', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let sql: Client;
  const rejections: Rejection[] = [];
  const duplicates = new Map<string, number>();
  const { append: appendTo } = projectionDriver(
    () => dataSource,
    {
      rejected: () => undefined,
      invariantViolated: () => undefined,
      duplicatesSkipped: (topicName, count) => void duplicates.set(topicName, (duplicates.get(topicName) ?? 0) + count),
    },
    rejections,
  );
  const append = (eventType: Parameters<typeof inbound>[0], events: unknown[], partition = 0) =>
    appendTo(eventType, events, partition);
  const balanceOf = async (account: string) =>
    (await sql.query('SELECT balance_minor::text AS balance FROM ledger.accounts WHERE account = $1', [account]))
      .rows[0]?.balance;

  beforeAll(async () => {
    database = await createTestDatabase('hostile_records');
    await ensureSchema(database.url, 'ledger');
    dataSource = await new DataSource(dataSourceOptions(database.url, 4)).initialize();
    sql = new Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await dataSource?.destroy();
    await database?.drop();
  });

  beforeEach(() => {
    rejections.length = 0;
    duplicates.clear();
  });

  it('sums two decisions of 2^63 - 1 to one account exactly, in balances and revenue, and still verifies', async () => {
    await append('InferenceAttributed', [whaleDecision(1, LONG_MAX)], 0);
    await append('InferenceAttributed', [whaleDecision(2, LONG_MAX)], 1);
    expect(rejections).toEqual([]);
    expect(await balanceOf('contributor:whale')).toBe(String(2n * LONG_MAX));
    expect(await balanceOf('consumer:whale-consumer')).toBe(String(-2n * LONG_MAX));
    const revenue = await sql.query(
      `SELECT dimension, revenue_minor::text AS revenue FROM ledger.revenue WHERE dimension_id IN ('m-whale', 'whale') ORDER BY dimension`,
    );
    expect(revenue.rows).toEqual([
      { dimension: 'contributor', revenue: String(2n * LONG_MAX) },
      { dimension: 'model', revenue: String(2n * LONG_MAX) },
    ]);
    expect((await verifyLedger(sql, 'ledger')).problems).toEqual([]);
    expect(await readDigest(sql, 'ledger')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('skips and counts a re-delivery; sends the same id with other content to the DLQ with both hashes', async () => {
    const original = decision(10);
    const forged: InferenceAttributed = { ...decision(11), eventId: original.eventId };
    await append('InferenceAttributed', [original, original], 2);
    expect(duplicates.get(inbound('InferenceAttributed', original, 0, 0).topic)).toBe(1);
    const balancesBefore = await readDigest(sql, 'ledger');
    // Later, in another batch: the same event again (a re-delivery) and the reused id (a conflict).
    await append('InferenceAttributed', [original, forged], 2);
    expect(duplicates.get(inbound('InferenceAttributed', original, 0, 0).topic)).toBe(2);
    expect(rejections.map((rejection) => rejection.reason)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^eventId: ${original.eventId} was already applied from db\\.tributary\\.attributions\\[2\\]@0 with content sha256:[0-9a-f]{64}; this record's content is sha256:[0-9a-f]{64}`,
        ),
      ),
    ]);
    const [, applied, offered] = /sha256:([0-9a-f]{64}).*sha256:([0-9a-f]{64})/.exec(rejections[0]!.reason)!;
    expect(applied).not.toBe(offered);
    expect(await readDigest(sql, 'ledger')).toBe(balancesBefore);
    expect(
      await sql
        .query('SELECT count(*)::int AS count FROM ledger.inferences WHERE inference_id = $1', [forged.inferenceId])
        .then((r) => r.rows[0].count),
    ).toBe(0);
  });

  it('sends a conflicting id to the DLQ within one batch too, and applies the first', async () => {
    const first = decision(20);
    const second: InferenceAttributed = { ...decision(21), eventId: first.eventId };
    await append('InferenceAttributed', [first, second], 3);
    expect(rejections.map((rejection) => rejection.errorClass)).toEqual(['RecordRejected']);
    expect(rejections[0]!.reason).toMatch(
      /^eventId: attributed:inf-20 was already applied from db\.tributary\.attributions\[3\]@0 /,
    );
    expect(
      await sql
        .query('SELECT inference_id FROM ledger.inferences WHERE event_id = $1', [first.eventId])
        .then((r) => r.rows),
    ).toEqual([{ inference_id: 'inf-20' }]);
  });

  it('scopes ids by topic: a payout event reusing a decision id is applied, not shadowed', async () => {
    const funded = decision(30, 1_000_000n);
    await append('InferenceAttributed', [funded], 4);
    const payout = { ...payoutRequested('p-shadow', 'protocol:tributary', 10n), eventId: funded.eventId };
    await append('PayoutRequested', [payout], 0);
    expect(rejections).toEqual([]);
    expect((await sql.query(`SELECT status FROM ledger.payouts WHERE payout_id = 'p-shadow'`)).rows).toEqual([
      { status: 'REQUESTED' },
    ]);
    expect(
      (
        await sql.query('SELECT count(*)::int AS count FROM ledger.applied_events WHERE event_id = $1', [
          funded.eventId,
        ])
      ).rows[0].count,
    ).toBe(2);
  });
});
