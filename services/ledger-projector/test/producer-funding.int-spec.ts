// The producer totals on a real PostgreSQL, driving projectBatch as the live consumer does (no broker):
// sums past what a bigint holds are kept exactly (two deposits of 2^63 - 1), a chargeback larger than
// the deposits leaves the producer in debt rather than failing, and migration 400 run on a ledger that
// already holds decisions files them under producer '' with the same per-account credits.
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { FundsDeposited, FundsReversed } from '@tributary/contracts';
import type { Rejection } from '@tributary/messaging';
import { ensureSchema } from '@tributary/persistence';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import { dataSourceOptions } from '../src/database/data-source-options';
import { verifyLedger } from '../src/operations/ledger-queries';
import { decision, projectionDriver } from './fixtures';

const MAX = 2n ** 63n - 1n;
const PRODUCER = 'urn:tributary:producer:big';
const deposit = (eventId: string, amountMinor: bigint): FundsDeposited => ({
  eventId,
  producer: PRODUCER,
  occurredAt: 0n,
  asset: 'USDC',
  amountMinor,
  railReference: eventId,
});
const reversal = (eventId: string, amountMinor: bigint): FundsReversed => ({
  eventId,
  producer: PRODUCER,
  occurredAt: 0n,
  asset: 'USDC',
  amountMinor,
  railReference: eventId,
  reason: 'chargeback',
  reversesEventId: null,
});

describe('producer totals in the read model', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let sql: Client;
  const rejections: Rejection[] = [];
  const { append } = projectionDriver(
    () => dataSource,
    { rejected: () => undefined, invariantViolated: () => undefined },
    rejections,
  );
  const rows = async (text: string) => (await sql.query(text)).rows;

  beforeAll(async () => {
    database = await createTestDatabase('ledger_producer_funding');
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

  it('holds sums past 2^63 exactly, and a chargeback past the deposits as debt', async () => {
    await append('FundsDeposited', [deposit('big-1', MAX)], 0);
    await append('FundsDeposited', [deposit('big-2', MAX), deposit('big-3', MAX)], 1);
    await append(
      'FundsReversed',
      [reversal('cb-1', MAX), reversal('cb-2', MAX), reversal('cb-3', MAX), reversal('cb-4', MAX)],
      2,
    );
    expect(rejections).toEqual([]);
    expect(
      await rows(
        `SELECT deposits_minor::text AS deposits, chargebacks_minor::text AS chargebacks FROM ledger.producer_funding WHERE producer = '${PRODUCER}'`,
      ),
    ).toEqual([{ deposits: String(MAX * 3n), chargebacks: String(MAX * 4n) }]);
  });

  it('files the decisions a ledger held before migration 400 under producer "", with the same credits per account', async () => {
    const decisions = Array.from({ length: 30 }, (_, index) => ({
      ...decision(index),
      producer: index % 3 === 0 ? null : `urn:tributary:producer:p${index % 2}`,
    }));
    await append('InferenceAttributed', decisions.slice(0, 15), 0);
    await append('InferenceAttributed', decisions.slice(15), 1);
    const liveCredits = await rows(
      `SELECT account, asset, sum(credited_minor)::text AS total FROM ledger.producer_credits GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const fees = decisions.reduce((sum, item) => sum + item.feeMinor, 0n);
    expect(
      await rows(
        `SELECT sum(fees_minor)::text AS fees, sum(credited_minor)::text AS credited FROM ledger.producer_funding`,
      ),
    ).toEqual([{ fees: String(fees), credited: String(fees) }]);

    // The migration again, on a ledger holding these decisions: everything it cannot attribute goes under ''.
    await dataSource.undoLastMigration();
    expect(await rows(`SELECT to_regclass('ledger.producer_funding') IS NULL AS gone`)).toEqual([{ gone: true }]);
    await dataSource.runMigrations();
    expect(
      await rows(
        `SELECT producer, asset, fees_minor::text AS fees, credited_minor::text AS credited, deposits_minor::text AS deposits FROM ledger.producer_funding`,
      ),
    ).toEqual([{ producer: '', asset: 'USDC', fees: String(fees), credited: String(fees), deposits: '0' }]);
    expect(await rows(`SELECT DISTINCT producer FROM ledger.producer_credits`)).toEqual([{ producer: '' }]);
    expect(
      await rows(`SELECT account, asset, credited_minor::text AS total FROM ledger.producer_credits ORDER BY 1, 2`),
    ).toEqual(liveCredits);
    expect((await verifyLedger(sql, 'ledger')).ok).toBe(true);
  });
});
