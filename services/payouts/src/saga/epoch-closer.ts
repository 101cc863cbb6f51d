import type { DataSource, QueryRunner } from 'typeorm';
import { randomBytes } from 'node:crypto';
import { EARNER_ROLES } from '@tributary/attribution';
import { backingFactsFromTotals, balanceKey, computeBacking, paidOrInFlightMap } from '@tributary/ledger';
import {
  appliedAsPlanned,
  BALANCES_PER_EPOCH_MAX,
  capToBacked,
  computeEpochPayouts,
  EPOCH_MAX,
  payableBalances,
  PAYOUT_ID_KEY_BYTES,
  type PayoutThresholds,
} from '@tributary/payouts';

/** Where the ledger stood when an epoch's balances were read: each source partition's checkpoint. */
export interface LedgerPosition {
  readonly topic: string;
  readonly partition: number;
  readonly nextOffset: string;
  readonly chainSeq: string;
}

export interface ClosedEpoch {
  readonly epoch: number;
  /** False when the epoch was already closed (by an earlier call, or another instance): nothing new was planned. */
  readonly created: boolean;
  readonly payoutCount: number;
  readonly closedAt: string;
  readonly closedBy: string;
  readonly ledgerPositions: LedgerPosition[];
}

/** The operator asked for an epoch that is neither closed nor the next one. */
export class EpochOutOfOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EpochOutOfOrderError';
  }
}

export interface EpochCloserOptions {
  readonly ledgerSchema: string;
  readonly thresholds: PayoutThresholds;
  readonly rail: string;
}

/** Closes of every instance queue on this one lock; a session lock, released if the process dies. */
const CLOSE_LOCK_KEY = 'tributary.payouts.close-epoch';

/**
 * Closes an epoch: under a lock every instance takes, in one REPEATABLE READ snapshot of the ledger
 * (balances, payouts, funding totals and checkpoints as the projector committed them together), plans
 * one payout per account at or above its threshold, for no more than deposits back, and records the
 * checkpoints the balances reflect. Planning is the only write; publishing the requests is the saga
 * worker's first step, so a crash after the commit loses nothing and a second close of the same epoch
 * plans nothing.
 */
export async function closeEpoch(
  dataSource: DataSource,
  options: EpochCloserOptions,
  requestedEpoch: number | undefined,
  closedBy: string,
): Promise<ClosedEpoch> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [CLOSE_LOCK_KEY]);
    try {
      // The snapshot starts at the transaction's first query, after the lock: a racing close is visible.
      await runner.startTransaction('REPEATABLE READ');
      try {
        const closed = await closeInSnapshot(runner, options, requestedEpoch, closedBy);
        await runner.commitTransaction();
        return closed;
      } catch (error) {
        await runner.rollbackTransaction();
        throw error;
      }
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [CLOSE_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

async function closeInSnapshot(
  runner: QueryRunner,
  options: EpochCloserOptions,
  requestedEpoch: number | undefined,
  closedBy: string,
): Promise<ClosedEpoch> {
  const last: Array<{ epoch: number }> = await runner.query('SELECT max(epoch) AS epoch FROM epochs');
  const nextEpoch = last[0]?.epoch === null || last[0]?.epoch === undefined ? 1 : Number(last[0].epoch) + 1;
  const epoch = requestedEpoch ?? nextEpoch;
  const existing = await findEpoch(runner, epoch);
  if (existing) return { ...existing, created: false };
  if (epoch !== nextEpoch)
    throw new EpochOutOfOrderError(`epoch: ${epoch} is not closed and is not the next epoch (${nextEpoch})`);
  if (epoch > EPOCH_MAX) throw new EpochOutOfOrderError(`epoch: must be at most ${EPOCH_MAX}`);
  const ledger = options.ledgerSchema;
  await assertLedgerExists(runner, ledger);
  const positions: Array<{ source_topic: string; source_partition: number; next_offset: string; chain_seq: string }> =
    await runner.query(
      `SELECT source_topic, source_partition, next_offset::text, chain_seq::text FROM ${ledger}.checkpoints ORDER BY 1, 2`,
    );
  const balances: Array<{ account: string; asset: string; balance_minor: string }> = await runner.query(
    `SELECT account, asset, balance_minor::text FROM ${ledger}.accounts WHERE role = ANY($1) AND balance_minor > 0 ORDER BY account, asset LIMIT ${BALANCES_PER_EPOCH_MAX + 1}`,
    [EARNER_ROLES],
  );
  if (balances.length > BALANCES_PER_EPOCH_MAX)
    throw new RangeError(`balances: more than ${BALANCES_PER_EPOCH_MAX} payable accounts in one epoch`);
  // This service's requests the ledger has not applied as planned: no ledger row under the id, or a row
  // whose terms differ from the plan (someone else's request under this id), judged by the saga's comparison.
  const pending: Array<{
    account: string;
    asset: string;
    amount_minor: string;
    epoch: number;
    ledger_account: string | null;
    ledger_asset: string | null;
    ledger_amount_minor: string | null;
    ledger_epoch: number | null;
  }> = await runner.query(
    `SELECT p.account, p.asset, p.amount_minor::text, p.epoch, l.account AS ledger_account, l.asset AS ledger_asset, l.amount_minor::text AS ledger_amount_minor, l.epoch AS ledger_epoch
       FROM payouts p LEFT JOIN ${ledger}.payouts l ON l.payout_id = p.payout_id
      WHERE p.status IN ('PLANNED', 'REQUESTED')`,
  );
  const unapplied = pending.filter(
    (row) =>
      !appliedAsPlanned(
        { accountId: row.account, asset: row.asset, amountMinor: BigInt(row.amount_minor), epoch: row.epoch },
        row.ledger_amount_minor === null
          ? null
          : {
              accountId: row.ledger_account!,
              asset: row.ledger_asset!,
              amountMinor: BigInt(row.ledger_amount_minor),
              epoch: row.ledger_epoch!,
            },
      ),
  );
  const unappliedRequests = unapplied.map((row) => ({
    accountId: row.account,
    asset: row.asset,
    amountMinor: BigInt(row.amount_minor),
  }));
  const payable = capToBacked(
    payableBalances(
      balances.map((row) => ({ accountId: row.account, asset: row.asset, payableMinor: BigInt(row.balance_minor) })),
      unappliedRequests,
    ),
    await backedPayable(runner, ledger, unappliedRequests),
    balanceKey,
  );
  // A fresh key per close: the epoch is recorded once, so its ids never need computing again (epoch.ts).
  const planned = computeEpochPayouts(epoch, payable, randomBytes(PAYOUT_ID_KEY_BYTES), options.thresholds);
  const ledgerPositions = positions.map((row) => ({
    topic: row.source_topic,
    partition: row.source_partition,
    nextOffset: row.next_offset,
    chainSeq: row.chain_seq,
  }));
  await runner.query('INSERT INTO epochs (epoch, closed_by, ledger_positions, payout_count) VALUES ($1, $2, $3, $4)', [
    epoch,
    closedBy,
    JSON.stringify(ledgerPositions),
    planned.length,
  ]);
  if (planned.length > 0) {
    await runner.query(
      `INSERT INTO payouts (payout_id, epoch, account, asset, amount_minor, rail, status)
       SELECT id, $1, account, asset, amount, $2, 'PLANNED' FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[]) AS t(id, account, asset, amount)`,
      [
        epoch,
        options.rail,
        planned.map((p) => p.payoutId),
        planned.map((p) => p.accountId),
        planned.map((p) => p.asset),
        planned.map((p) => p.amountMinor.toString()),
      ],
    );
  }
  return { ...(await findEpoch(runner, epoch))!, created: true };
}

/**
 * What deposits back and no payout has taken yet, per account and asset, from the ledger's running
 * totals (fees, deposits and chargebacks per producer; each account's credits per producer) in the same
 * snapshot as the balances. What left or is leaving counts against it: the ledger's reserved and settled
 * payouts, and this service's requests it has not applied yet.
 */
async function backedPayable(
  runner: QueryRunner,
  ledger: string,
  unapplied: ReadonlyArray<{ accountId: string; asset: string; amountMinor: bigint }>,
): Promise<Map<string, bigint>> {
  const funding: Array<{
    producer: string;
    asset: string;
    fees_minor: string;
    deposits_minor: string;
    chargebacks_minor: string;
  }> = await runner.query(
    `SELECT producer, asset, fees_minor::text, deposits_minor::text, chargebacks_minor::text FROM ${ledger}.producer_funding ORDER BY producer, asset`,
  );
  const credits: Array<{ account: string; producer: string; asset: string; credited_minor: string }> =
    await runner.query(
      `SELECT account, producer, asset, credited_minor::text FROM ${ledger}.producer_credits ORDER BY account, producer, asset`,
    );
  const paid: Array<{ account: string; asset: string; amount_minor: string }> = await runner.query(
    `SELECT account, asset, sum(amount_minor)::text AS amount_minor FROM ${ledger}.payouts WHERE status IN ('REQUESTED', 'SETTLED') GROUP BY account, asset`,
  );
  const creditTotals = credits.map((row) => ({
    accountId: row.account,
    producer: row.producer,
    asset: row.asset,
    creditedMinor: BigInt(row.credited_minor),
  }));
  const earned = paidOrInFlightMap(
    creditTotals.map((credit) => ({
      accountId: credit.accountId,
      asset: credit.asset,
      amountMinor: credit.creditedMinor,
    })),
  );
  const leaving = paidOrInFlightMap([
    ...paid.map((row) => ({ accountId: row.account, asset: row.asset, amountMinor: BigInt(row.amount_minor) })),
    ...unapplied,
  ]);
  // A plan the ledger has not applied beside a foreign reservation under its id can count more than was
  // earned; capped at the earnings it leaves nothing payable either way, and the backing rules accept it.
  for (const [key, amount] of leaving) {
    const earnedMinor = earned.get(key) ?? 0n;
    if (amount > earnedMinor) leaving.set(key, earnedMinor);
  }
  const report = computeBacking(
    backingFactsFromTotals(
      funding.map((row) => ({
        producer: row.producer,
        asset: row.asset,
        feesMinor: BigInt(row.fees_minor),
        depositsMinor: BigInt(row.deposits_minor),
        chargebacksMinor: BigInt(row.chargebacks_minor),
      })),
      creditTotals,
    ),
    leaving,
  );
  return new Map(
    report.accounts.map((account) => [balanceKey(account.accountId, account.asset), account.payableMinor]),
  );
}

export async function findEpoch(
  sql: { query(text: string, params?: unknown[]): Promise<unknown> },
  epoch: number,
): Promise<Omit<ClosedEpoch, 'created'> | null> {
  const rows = (await sql.query(
    'SELECT epoch, closed_at, closed_by, ledger_positions, payout_count FROM epochs WHERE epoch = $1',
    [epoch],
  )) as Array<{
    epoch: number;
    closed_at: Date;
    closed_by: string;
    ledger_positions: LedgerPosition[];
    payout_count: number;
  }>;
  const row = rows[0];
  if (!row) return null;
  return {
    epoch: row.epoch,
    payoutCount: row.payout_count,
    closedAt: new Date(row.closed_at).toISOString(),
    closedBy: row.closed_by,
    ledgerPositions: row.ledger_positions,
  };
}

/** When the last epoch was closed, so the interval timer knows whether the next one is due. */
export async function lastClosedAtMs(dataSource: DataSource): Promise<number | null> {
  const rows: Array<{ closed_at: Date | null }> = await dataSource.query(
    'SELECT max(closed_at) AS closed_at FROM epochs',
  );
  return rows[0]?.closed_at ? new Date(rows[0].closed_at).getTime() : null;
}

async function assertLedgerExists(runner: QueryRunner, ledger: string): Promise<void> {
  if ((await missingLedgerTables(runner, ledger)).length > 0)
    throw new Error(
      `PAYOUTS_LEDGER_SCHEMA: no ledger read model in schema "${ledger}": start the ledger projector first`,
    );
}

/** The ledger projector's tables this service reads: balances, funding and positions to close an epoch, reservations and offsets to observe. */
const LEDGER_TABLES = [
  'accounts',
  'checkpoints',
  'payouts',
  'consumer_offsets',
  'producer_funding',
  'producer_credits',
] as const;

/** Which of the ledger tables this service reads do not exist (yet) in schema `ledger`, as qualified names. */
export async function missingLedgerTables(sql: DataSource | QueryRunner, ledger: string): Promise<string[]> {
  const rows: Array<{ name: string }> = await sql.query(
    'SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NULL',
    [LEDGER_TABLES.map((table) => `${ledger}.${table}`)],
  );
  return rows.map((row) => row.name);
}
