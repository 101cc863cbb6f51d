// Proves the ledger's database rules on a real PostgreSQL, driving projectBatch the way the live consumer
// does (no broker needed): duplicates have no effect, an overdrawing payout is refused with an alert,
// `verify` finds each of 50 random tamperings of ledger_entries at the exact row (and nothing on the
// untouched ledger), and `audit` traces every entry of an account to its inference or payout and the
// contributions behind it with totals equal to the balance.
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { entryHash } from '@tributary/ledger';
import type { Rejection } from '@tributary/messaging';
import { ensureSchema } from '@tributary/persistence';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import { dataSourceOptions } from '../src/database/data-source-options';
import { auditAccount } from '../src/operations/audit';
import { readDigest, verifyLedger } from '../src/operations/ledger-queries';
import { decision, payoutFailed, payoutRequested, payoutSettled, projectionDriver } from './fixtures';

const PARTITIONS = 3;
const DECISIONS_PER_PARTITION = 40;

describe('the ledger read model', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let sql: Client;
  const rejections: Rejection[] = [];
  const violations: string[] = [];
  const { append } = projectionDriver(
    () => dataSource,
    { rejected: () => undefined, invariantViolated: (rule) => void violations.push(rule) },
    rejections,
  );
  const count = async (text: string) => Number((await sql.query(text)).rows[0].count);

  beforeAll(async () => {
    database = await createTestDatabase('ledger_db');
    await ensureSchema(database.url, 'ledger');
    dataSource = await new DataSource(dataSourceOptions(database.url, 4)).initialize();
    sql = new Client({ connectionString: database.url });
    await sql.connect();
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      const decisions = Array.from({ length: DECISIONS_PER_PARTITION }, (_, index) =>
        decision(partition * 1_000 + index),
      );
      await append('InferenceAttributed', decisions.slice(0, 25), partition);
      await append('InferenceAttributed', decisions.slice(25), partition);
    }
  });

  afterAll(async () => {
    await sql?.end();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('applies a re-published event once: same entries, same digest', async () => {
    const entriesBefore = await count('SELECT count(*) FROM ledger.ledger_entries');
    const digestBefore = await readDigest(sql, 'ledger');
    await append('InferenceAttributed', [decision(0), decision(1_001), decision(5)], 1);
    expect(await count('SELECT count(*) FROM ledger.ledger_entries')).toBe(entriesBefore);
    expect(await readDigest(sql, 'ledger')).toBe(digestBefore);
    expect(entriesBefore).toBe(PARTITIONS * DECISIONS_PER_PARTITION * 9);
  });

  it('reserves, settles and returns payouts, and refuses an overdraft with a DLQ record and an alert', async () => {
    const balance = BigInt(
      (await sql.query(`SELECT balance_minor FROM ledger.accounts WHERE account = 'contributor:c0'`)).rows[0]
        .balance_minor,
    );
    await append('PayoutRequested', [payoutRequested('p1', 'contributor:c0', balance - 10n)], 0);
    await append('PayoutSettled', [payoutSettled('p1', 'contributor:c0')], 0);
    await append(
      'PayoutRequested',
      [payoutRequested('p2', 'contributor:c0', 10n), payoutRequested('p3', 'contributor:c0', 1n)],
      0,
    );
    await append('PayoutFailed', [payoutFailed('p2', 'contributor:c0')], 0);
    const accounts = await sql.query(
      `SELECT account, balance_minor FROM ledger.accounts WHERE account IN ('contributor:c0', 'clearing:payouts-in-flight', 'settlement:ach') ORDER BY account`,
    );
    expect(accounts.rows).toEqual([
      { account: 'clearing:payouts-in-flight', balance_minor: '0' },
      { account: 'contributor:c0', balance_minor: '10' },
      { account: 'settlement:ach', balance_minor: String(balance - 10n) },
    ]);
    expect(rejections.map((rejection) => rejection.reason)).toEqual([
      'amountMinor: 1 exceeds the payable balance 0 of contributor:c0 in USDC',
    ]);
    expect(violations).toEqual(['payout-overdraft']);
    expect(
      (await sql.query(`SELECT status FROM ledger.payouts ORDER BY payout_id`)).rows.map((row) => row.status),
    ).toEqual(['SETTLED', 'FAILED']);
  });

  it('records revenue per model, contributor and datanet that adds up to the fees', async () => {
    const sums = await sql.query(
      `SELECT dimension, sum(revenue_minor)::text AS total FROM ledger.revenue GROUP BY dimension ORDER BY dimension`,
    );
    const fees = (await sql.query(`SELECT sum(fee_minor)::text AS total FROM ledger.inferences`)).rows[0].total;
    const contributorCredits = (
      await sql.query(
        `SELECT sum(amount_minor)::text AS total FROM ledger.ledger_entries WHERE account LIKE 'contributor:%' AND transaction_id LIKE 'inf-%'`,
      )
    ).rows[0].total;
    expect(Object.fromEntries(sums.rows.map((row) => [row.dimension, row.total]))).toEqual({
      model: fees,
      contributor: contributorCredits,
      datanet: contributorCredits,
    });
  });

  it('audits an account: every entry traced, contributions summing to each credit, totals equal to the balance', async () => {
    const statement = await auditAccount(sql, 'ledger', 'contributor:c0', 10_000);
    expect(statement.totals).toEqual([
      expect.objectContaining({ asset: 'USDC', balanceMinor: '10', entriesSumMinor: '10', matches: true }),
    ]);
    expect(statement.linesOmitted).toBe(0);
    for (const line of statement.lines) {
      expect(line.origin).not.toBe('unknown origin');
      if (line.transactionId.startsWith('inf-')) {
        expect(line.contributions.length).toBeGreaterThan(0);
        expect(line.contributions.reduce((sum, c) => sum + BigInt(c.amountMinor), 0n)).toBe(BigInt(line.amountMinor));
      }
    }
    expect(statement.lines.filter((line) => line.origin.startsWith('payout ')).map((line) => line.amountMinor)).toEqual(
      [expect.any(String), '-10', '10'],
    );
  });

  describe('tampering', () => {
    const ways = [
      'amount',
      'account',
      'asset',
      'transaction',
      'event',
      'offset',
      'posting-index',
      'hash',
      'delete',
      'swap',
      'delete-last',
      'forge-append',
    ] as const;
    /** A seeded generator, so a failure names a case that can be re-run. */
    let seed = 20_260_301;
    const random = (below: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % below;
    };

    it('finds nothing on the untouched ledger', async () => {
      const report = await verifyLedger(sql, 'ledger');
      expect(report.problems).toEqual([]);
      expect(report.entriesChecked).toBe(await count('SELECT count(*) FROM ledger.ledger_entries'));
    });

    it('finds each of 50 random tamperings at the row that was changed', async () => {
      const heads = (
        await sql.query(`SELECT source_topic, source_partition, chain_seq FROM ledger.checkpoints ORDER BY 1, 2`)
      ).rows;
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const way = ways[attempt % ways.length]!;
        const head = heads[random(heads.length)]!;
        const headSeq = Number(head.chain_seq);
        const seq = way === 'delete-last' ? headSeq : way === 'forge-append' ? headSeq + 1 : 1 + random(headSeq - 1);
        const where = `source_topic = '${head.source_topic}' AND source_partition = ${head.source_partition}`;
        await sql.query('BEGIN');
        try {
          await tamper(sql, way, where, seq);
          const report = await verifyLedger(sql, 'ledger', { withinCallerTransaction: true });
          const chainProblem = report.problems.find(
            (problem) => problem.sourceTopic === head.source_topic && problem.sourcePartition === head.source_partition,
          );
          expect({ attempt, way, row: chainProblem?.rowNumber }).toEqual({ attempt, way, row: seq });
        } finally {
          await sql.query('ROLLBACK');
        }
      }
      expect((await verifyLedger(sql, 'ledger')).ok).toBe(true);
    });

    it('finds a balance changed in the accounts table', async () => {
      await sql.query('BEGIN');
      try {
        await sql.query(
          `UPDATE ledger.accounts SET balance_minor = balance_minor + 1 WHERE account = 'protocol:tributary'`,
        );
        const report = await verifyLedger(sql, 'ledger', { withinCallerTransaction: true });
        expect(report.problems.map((problem) => problem.reason)).toEqual([
          expect.stringMatching(/^account protocol:tributary in USDC: balance \d+ but its entries sum to \d+$/),
        ]);
      } finally {
        await sql.query('ROLLBACK');
      }
    });
  });
});

async function tamper(sql: Client, way: string, where: string, seq: number): Promise<void> {
  const row = `${where} AND chain_seq = ${seq}`;
  switch (way) {
    case 'amount':
      return void (await sql.query(`UPDATE ledger.ledger_entries SET amount_minor = amount_minor + 1 WHERE ${row}`));
    case 'account':
      return void (await sql.query(`UPDATE ledger.ledger_entries SET account = account || 'x' WHERE ${row}`));
    case 'asset':
      return void (await sql.query(`UPDATE ledger.ledger_entries SET asset = 'EURC' WHERE ${row}`));
    case 'transaction':
      return void (await sql.query(
        `UPDATE ledger.ledger_entries SET transaction_id = transaction_id || '-' WHERE ${row}`,
      ));
    case 'event':
      return void (await sql.query(`UPDATE ledger.ledger_entries SET source_event_id = 'forged' WHERE ${row}`));
    case 'offset':
      return void (await sql.query(`UPDATE ledger.ledger_entries SET source_offset = source_offset + 1 WHERE ${row}`));
    case 'posting-index':
      return void (await sql.query(`UPDATE ledger.ledger_entries SET posting_index = posting_index + 1 WHERE ${row}`));
    case 'hash':
      return void (await sql.query(`UPDATE ledger.ledger_entries SET hash = sha256(hash) WHERE ${row}`));
    case 'delete':
    case 'delete-last':
      return void (await sql.query(`DELETE FROM ledger.ledger_entries WHERE ${row}`));
    case 'swap':
      // Reordering: the rows at seq and seq + 1 trade places in the chain.
      await sql.query(
        `UPDATE ledger.ledger_entries SET chain_seq = 1000000000 + chain_seq WHERE ${where} AND chain_seq IN (${seq}, ${seq + 1})`,
      );
      await sql.query(
        `UPDATE ledger.ledger_entries SET chain_seq = CASE chain_seq WHEN ${1_000_000_000 + seq} THEN ${seq + 1} ELSE ${seq} END WHERE ${where} AND chain_seq > 1000000000`,
      );
      return;
    case 'forge-append': {
      // A forger who knows the hashing appends a perfectly chained row; only the checkpoint gives it away.
      const last = (await sql.query(`SELECT * FROM ledger.ledger_entries WHERE ${where} AND chain_seq = ${seq - 1}`))
        .rows[0];
      const forged = {
        sourceTopic: last.source_topic,
        sourcePartition: last.source_partition,
        chainSeq: BigInt(seq),
        transactionId: 'forged',
        postingIndex: 0,
        account: 'contributor:mallory',
        asset: 'USDC',
        amountMinor: 1_000n,
        sourceEventId: 'forged',
        sourceOffset: BigInt(last.source_offset),
      };
      await sql.query(`INSERT INTO ledger.ledger_entries VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
        forged.sourceTopic,
        forged.sourcePartition,
        seq,
        forged.transactionId,
        0,
        forged.account,
        forged.asset,
        '1000',
        forged.sourceEventId,
        last.source_offset,
        entryHash(last.hash, forged),
      ]);
      return;
    }
    default:
      throw new Error(`unknown tampering ${way}`);
  }
}
