// Proves the projector's PostgreSQL writer persists exactly what the ledger fold decides: every case of
// libs/ledger's fold.cases.ts (the unit tier runs them through foldLedgerBatch) is published as wire
// records and applied through projectBatch on a real database, and the case's effects are read back as
// differences of the tables (balances, revenue, lineage, producer totals, payouts, counts); applied a
// second time the batch changes no table and meets the same refusals; the chains verify.
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { FOLD_CASES, NO_EFFECTS, type CaseBatch, type ObservedEffects } from '../../../libs/ledger/src/fold.cases';
import type { InboundRecord, Rejection } from '@tributary/messaging';
import { ensureSchema } from '@tributary/persistence';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import { dataSourceOptions } from '../src/database/data-source-options';
import { verifyLedger } from '../src/operations/ledger-queries';
import { inbound, projectionDriver } from './fixtures';

/** The tables a batch changes, read whole (a case's ledger holds a few rows). */
interface Tables {
  readonly balances: Map<string, bigint>;
  readonly revenue: Map<string, readonly [bigint, number]>;
  readonly inferences: Set<string>;
  readonly contributionCredits: Map<string, bigint>;
  readonly producerFunding: Map<string, readonly [bigint, bigint, bigint, bigint]>;
  readonly producerCredits: Map<string, bigint>;
  readonly payouts: Map<string, string>;
  readonly appliedEvents: number;
  readonly entries: number;
}

async function readTables(sql: Client, schema: string): Promise<Tables> {
  const rows = async (text: string) => (await sql.query(text.replaceAll('ledger.', `${schema}.`))).rows;
  return {
    balances: new Map(
      (await rows('SELECT account, asset, balance_minor::text AS amount FROM ledger.accounts')).map((row) => [
        `${row.account}|${row.asset}`,
        BigInt(row.amount),
      ]),
    ),
    revenue: new Map(
      (
        await rows(
          'SELECT dimension, dimension_id, asset, revenue_minor::text AS amount, inference_count::text AS count FROM ledger.revenue',
        )
      ).map((row) => [
        `${row.dimension}|${row.dimension_id}|${row.asset}`,
        [BigInt(row.amount), Number(row.count)] as const,
      ]),
    ),
    inferences: new Set((await rows('SELECT inference_id FROM ledger.inferences')).map((row) => row.inference_id)),
    contributionCredits: new Map(
      (
        await rows(
          'SELECT inference_id, contribution_id, amount_minor::text AS amount FROM ledger.contribution_credits',
        )
      ).map((row) => [`${row.inference_id}|${row.contribution_id}`, BigInt(row.amount)]),
    ),
    producerFunding: new Map(
      (
        await rows(
          'SELECT producer, asset, fees_minor::text AS fees, credited_minor::text AS credited, deposits_minor::text AS deposits, chargebacks_minor::text AS chargebacks FROM ledger.producer_funding',
        )
      ).map((row) => [
        `${row.producer}|${row.asset}`,
        [BigInt(row.fees), BigInt(row.credited), BigInt(row.deposits), BigInt(row.chargebacks)] as const,
      ]),
    ),
    producerCredits: new Map(
      (await rows('SELECT account, producer, asset, credited_minor::text AS amount FROM ledger.producer_credits')).map(
        (row) => [`${row.account}|${row.producer}|${row.asset}`, BigInt(row.amount)],
      ),
    ),
    payouts: new Map(
      (await rows('SELECT payout_id, status FROM ledger.payouts')).map((row) => [row.payout_id, row.status]),
    ),
    appliedEvents: Number((await rows('SELECT count(*) AS count FROM ledger.applied_events'))[0].count),
    entries: Number((await rows('SELECT count(*) AS count FROM ledger.ledger_entries'))[0].count),
  };
}

/** A batch's effects as the differences of the tables before and after it, in the cases' terms (zero deltas left out). */
function differences(before: Tables, after: Tables, deadLetters: string[]): ObservedEffects {
  const deltas = <T>(
    from: Map<string, T>,
    to: Map<string, T>,
    minus: (next: T, previous: T | undefined) => T,
    isZero: (value: T) => boolean,
  ) =>
    Object.fromEntries(
      [...to]
        .map(([key, value]): [string, T] => [key, minus(value, from.get(key))])
        .filter(([, delta]) => !isZero(delta)),
    );
  const amount = (next: bigint, previous: bigint | undefined) => next - (previous ?? 0n);
  return {
    balances: deltas(before.balances, after.balances, amount, (delta) => delta === 0n),
    revenue: deltas(
      before.revenue,
      after.revenue,
      (next, previous) => [next[0] - (previous?.[0] ?? 0n), next[1] - (previous?.[1] ?? 0)] as const,
      ([sum, count]) => sum === 0n && count === 0,
    ),
    inferences: [...after.inferences].filter((id) => !before.inferences.has(id)),
    contributionCredits: Object.fromEntries(
      [...after.contributionCredits].filter(([key]) => !before.contributionCredits.has(key)),
    ),
    producerFunding: deltas(
      before.producerFunding,
      after.producerFunding,
      (next, previous) =>
        [
          next[0] - (previous?.[0] ?? 0n),
          next[1] - (previous?.[1] ?? 0n),
          next[2] - (previous?.[2] ?? 0n),
          next[3] - (previous?.[3] ?? 0n),
        ] as const,
      (sums) => sums.every((sum) => sum === 0n),
    ),
    producerCredits: deltas(before.producerCredits, after.producerCredits, amount, (delta) => delta === 0n),
    payouts: Object.fromEntries([...after.payouts].filter(([id, status]) => before.payouts.get(id) !== status)),
    deadLetters: deadLetters as ObservedEffects['deadLetters'],
    appliedEvents: after.appliedEvents - before.appliedEvents,
    entries: after.entries - before.entries,
  };
}

const statesOfCases = [...new Set(FOLD_CASES.map((foldCase) => foldCase.state))];

describe('the ledger fold through the PostgreSQL writer', () => {
  let database: TestDatabase;
  let sql: Client;
  let caseNumber = 0;

  beforeAll(async () => {
    database = await createTestDatabase('ledger_fold');
    sql = new Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });

  /** A ledger of its own for one case, in a schema of its own, and a driver that applies batches as the live consumer does. */
  async function freshLedger() {
    caseNumber += 1;
    const schema = `fold_case_${caseNumber}`;
    await ensureSchema(database.url, schema);
    const dataSource = await new DataSource(dataSourceOptions(database.url, 2, schema)).initialize();
    const refusals: string[] = [];
    const rejections: Rejection[] = [];
    const driver = projectionDriver(
      () => dataSource,
      { rejected: (_topic, rule) => void refusals.push(rule), invariantViolated: () => undefined },
      rejections,
    );
    const nextOffsets = new Map<string, number>();
    /** Appends the batch at its partition's next offsets and applies it; returns the rules it was refused by. */
    const apply = async (batch: CaseBatch): Promise<string[]> => {
      const records: InboundRecord[] = batch.events.map((event) => {
        const topic = inbound(event.type, event.data, batch.partition, 0).topic;
        const offset = nextOffsets.get(`${topic}/${batch.partition}`) ?? 0;
        nextOffsets.set(`${topic}/${batch.partition}`, offset + 1);
        return inbound(event.type, event.data, batch.partition, offset);
      });
      refusals.length = 0;
      await driver.apply(records);
      return [...refusals];
    };
    return { schema, dataSource, apply };
  }

  for (const state of statesOfCases) {
    describe(`given ${state}`, () => {
      for (const foldCase of FOLD_CASES.filter((candidate) => candidate.state === state)) {
        it(`when ${foldCase.when}, then the tables change by the case's effects, and not again`, async () => {
          const ledger = await freshLedger();
          try {
            for (const batch of foldCase.given) await ledger.apply(batch);
            const before = await readTables(sql, ledger.schema);
            const refused = await ledger.apply(foldCase.batch);
            const after = await readTables(sql, ledger.schema);
            expect(differences(before, after, refused)).toEqual(foldCase.then);
            const refusedAgain = await ledger.apply(foldCase.batch);
            expect(differences(after, await readTables(sql, ledger.schema), refusedAgain)).toEqual({
              ...NO_EFFECTS,
              deadLetters: foldCase.then.deadLetters,
            });
            expect((await verifyLedger(sql, ledger.schema)).problems).toEqual([]);
          } finally {
            await ledger.dataSource.destroy();
          }
        });
      }
    });
  }
});
