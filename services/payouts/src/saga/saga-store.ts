import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { PayoutTerms, SagaState, SagaStatus } from '@tributary/payouts';

/** A REQUESTED payout next to what the ledger holds under its id: its row's terms, or that it read past the request. */
export interface LedgerObservation {
  readonly payoutId: string;
  readonly state: SagaState;
  readonly plan: PayoutTerms;
  /** The ledger's row under this payout id (whoever's request made it), or null when it has none. */
  readonly reservation: PayoutTerms | null;
  readonly readPast: boolean;
}

/** One saga row as stored; amounts stay bigint, times are ms on the database's clock. */
export interface SagaRow {
  readonly payoutId: string;
  readonly epoch: number;
  readonly accountId: string;
  readonly asset: string;
  readonly amountMinor: bigint;
  readonly rail: string;
  readonly state: SagaState;
  readonly leaseToken: string;
  readonly nowMs: number;
}

interface RawRow {
  payout_id: string;
  epoch: number;
  account: string;
  asset: string;
  amount_minor: string;
  rail: string;
  status: SagaStatus;
  attempts: number;
  first_attempt_at_ms: string | null;
  next_attempt_at_ms: string | null;
  reference: string | null;
  failure_reason: string | null;
  lease_token: string;
  now_ms: string;
}

const msOrNull = (value: string | null) => (value === null ? null : Number(value));
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

function toSagaRow(raw: RawRow): SagaRow {
  return {
    payoutId: raw.payout_id,
    epoch: raw.epoch,
    accountId: raw.account,
    asset: raw.asset,
    amountMinor: BigInt(raw.amount_minor),
    rail: raw.rail,
    leaseToken: raw.lease_token,
    nowMs: Number(raw.now_ms),
    state: {
      status: raw.status,
      attempts: raw.attempts,
      firstAttemptAtMs: msOrNull(raw.first_attempt_at_ms),
      nextAttemptAtMs: msOrNull(raw.next_attempt_at_ms),
      reference: raw.reference,
      failureReason: raw.failure_reason,
    },
  };
}

/**
 * The saga rows and their fenced updates. A worker claims rows with a lease (a token and an expiry,
 * FOR UPDATE SKIP LOCKED), so two instances never work on one payout at once; every later write
 * names the token, so an instance whose lease expired (it stalled, another took over) changes nothing.
 * A killed instance's leases simply expire, and the rows are resumed.
 */
export class SagaStore {
  constructor(private readonly dataSource: DataSource) {}

  async claim(statuses: readonly SagaStatus[], leaseMs: number, limit: number, dueOnly: boolean): Promise<SagaRow[]> {
    const rows: RawRow[] = await this.dataSource.query(
      `WITH claimed AS (
         UPDATE payouts SET lease_token = $1, lease_until = clock_timestamp() + make_interval(secs => $2::double precision / 1000)
          WHERE payout_id IN (
            SELECT payout_id FROM payouts
             WHERE status = ANY($3) AND (lease_until IS NULL OR lease_until < clock_timestamp())
               AND (NOT $5 OR coalesce(next_attempt_at_ms, 0) <= ${NOW_MS})
             ORDER BY epoch, payout_id LIMIT $4 FOR UPDATE SKIP LOCKED)
          RETURNING *)
       SELECT payout_id, epoch, account, asset, amount_minor::text, rail, status, attempts, first_attempt_at_ms::text, next_attempt_at_ms::text,
              reference, failure_reason, lease_token::text, ${NOW_MS}::text AS now_ms
         FROM claimed ORDER BY epoch, payout_id`,
      [randomUUID(), leaseMs, statuses, limit, dueOnly],
    );
    return rows.map(toSagaRow);
  }

  /** Writes a saga's new state if the caller still holds the lease (and frees it); false when it lost it. */
  async save(
    row: SagaRow,
    next: SagaState,
    extra: { requestPartition?: number; requestOffset?: string; keepLease?: boolean } = {},
    manager?: EntityManager,
  ): Promise<boolean> {
    const rows: Array<{ payout_id: string }> = await (manager ?? this.dataSource).query(
      `WITH saved AS (
         UPDATE payouts SET status = $3, attempts = $4, first_attempt_at_ms = $5, next_attempt_at_ms = $6, reference = $7, failure_reason = $8,
                request_partition = coalesce($9, request_partition), request_offset = coalesce($10, request_offset),
                lease_token = CASE WHEN $11 THEN lease_token END, lease_until = CASE WHEN $11 THEN lease_until END, updated_at = now()
          WHERE payout_id = $1 AND lease_token = $2 AND status = $12
          RETURNING payout_id)
       SELECT payout_id FROM saved`,
      [
        row.payoutId,
        row.leaseToken,
        next.status,
        next.attempts,
        next.firstAttemptAtMs,
        next.nextAttemptAtMs,
        next.reference,
        next.failureReason,
        extra.requestPartition ?? null,
        extra.requestOffset ?? null,
        extra.keepLease ?? false,
        row.state.status,
      ],
    );
    return rows.length === 1;
  }

  /**
   * Requests the ledger has reserved or read past, as seen in one snapshot of the ledger's payouts and
   * offsets. With a reservation come its terms (account, asset, amount, epoch) next to the plan's, so
   * the saga can tell the ledger reserved exactly this payout and not merely something under its id.
   */
  async requestedAgainstLedger(
    ledgerSchema: string,
    ledgerGroupId: string,
    payoutsTopic: string,
    limit: number,
  ): Promise<LedgerObservation[]> {
    const rows: Array<{
      payout_id: string;
      epoch: number;
      account: string;
      asset: string;
      amount_minor: string;
      status: SagaStatus;
      attempts: number;
      first_attempt_at_ms: string | null;
      next_attempt_at_ms: string | null;
      reference: string | null;
      failure_reason: string | null;
      ledger_account: string | null;
      ledger_asset: string | null;
      ledger_amount_minor: string | null;
      ledger_epoch: number | null;
      request_offset: string | null;
      ledger_next_offset: string | null;
    }> = await this.dataSource.query(
      `SELECT p.payout_id, p.epoch, p.account, p.asset, p.amount_minor::text, p.status, p.attempts, p.first_attempt_at_ms::text, p.next_attempt_at_ms::text,
              p.reference, p.failure_reason,
              l.account AS ledger_account, l.asset AS ledger_asset, l.amount_minor::text AS ledger_amount_minor, l.epoch AS ledger_epoch,
              p.request_offset::text, o.next_offset::text AS ledger_next_offset
         FROM payouts p
         LEFT JOIN ${ledgerSchema}.payouts l ON l.payout_id = p.payout_id
         LEFT JOIN ${ledgerSchema}.consumer_offsets o ON o.group_id = $1 AND o.topic = $2 AND o.partition = p.request_partition
        WHERE p.status = 'REQUESTED' ORDER BY p.epoch, p.payout_id LIMIT $3`,
      [ledgerGroupId, payoutsTopic, limit],
    );
    return rows.map((row) => ({
      payoutId: row.payout_id,
      state: {
        status: row.status,
        attempts: row.attempts,
        firstAttemptAtMs: msOrNull(row.first_attempt_at_ms),
        nextAttemptAtMs: msOrNull(row.next_attempt_at_ms),
        reference: row.reference,
        failureReason: row.failure_reason,
      },
      plan: { accountId: row.account, asset: row.asset, amountMinor: BigInt(row.amount_minor), epoch: row.epoch },
      reservation:
        row.ledger_amount_minor === null
          ? null
          : {
              accountId: row.ledger_account!,
              asset: row.ledger_asset!,
              amountMinor: BigInt(row.ledger_amount_minor),
              epoch: row.ledger_epoch!,
            },
      // The projector moved past our request without reserving it: it refused it (to its DLQ).
      readPast:
        row.ledger_amount_minor === null &&
        row.request_offset !== null &&
        row.ledger_next_offset !== null &&
        BigInt(row.ledger_next_offset) > BigInt(row.request_offset),
    }));
  }

  /** Moves REQUESTED rows on by what the ledger showed; no lease needed, the status guard makes it idempotent. */
  async markObserved(payoutId: string, status: 'SETTLING' | 'REFUSED', reason: string | null): Promise<boolean> {
    const rows: Array<{ payout_id: string }> = await this.dataSource.query(
      `WITH moved AS (UPDATE payouts SET status = $2, failure_reason = $3, next_attempt_at_ms = NULL, updated_at = now()
                       WHERE payout_id = $1 AND status = 'REQUESTED' RETURNING payout_id)
       SELECT payout_id FROM moved`,
      [payoutId, status, reason],
    );
    return rows.length === 1;
  }

  /** The last attempt recorded for a payout: STARTED with no outcome means a call may be in flight (or was, before a crash). */
  async lastAttempt(payoutId: string): Promise<{ attempt: number; outcome: string } | null> {
    const rows: Array<{ attempt: number; outcome: string }> = await this.dataSource.query(
      'SELECT attempt, outcome FROM payout_attempts WHERE payout_id = $1 ORDER BY attempt DESC LIMIT 1',
      [payoutId],
    );
    return rows[0] ?? null;
  }

  /** Records an attempt before the rail is called, with the saga's new attempt count, in one transaction. */
  async startAttempt(row: SagaRow, next: SagaState): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      if (!(await this.save(row, next, { keepLease: true }, manager))) return false;
      await manager.query(`INSERT INTO payout_attempts (payout_id, attempt, outcome) VALUES ($1, $2, 'STARTED')`, [
        row.payoutId,
        next.attempts,
      ]);
      return true;
    });
  }

  /** A resumed attempt keeps its number (the rail sees the same idempotency key); the call is counted. */
  async resumeAttempt(row: SagaRow, attempt: number): Promise<void> {
    await this.dataSource.query('UPDATE payout_attempts SET calls = calls + 1 WHERE payout_id = $1 AND attempt = $2', [
      row.payoutId,
      attempt,
    ]);
  }

  async endAttempt(
    row: SagaRow,
    attempt: number,
    next: SagaState,
    outcome: 'SUCCEEDED' | 'FAILED' | 'REFUSED',
    detail: string,
  ): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      if (!(await this.save(row, next, {}, manager))) return false;
      await manager.query(
        'UPDATE payout_attempts SET outcome = $3, detail = $4, ended_at = now() WHERE payout_id = $1 AND attempt = $2',
        [row.payoutId, attempt, outcome, detail.slice(0, 4_096)],
      );
      return true;
    });
  }

  /**
   * Records a definite answer for a payout waiting for reconciliation and moves it on, fenced on the
   * status: of two answers racing (the status query and an operator), exactly one moves it. The worker
   * passes its lease token; an operator passes null (the status fence alone decides).
   */
  async resolve(
    payoutId: string,
    leaseToken: string | null,
    next: SagaState,
    resolution: StoredResolution,
  ): Promise<boolean> {
    const rows: Array<{ payout_id: string }> = await this.dataSource.query(
      `WITH resolved AS (
         UPDATE payouts SET status = $3, reference = $4, failure_reason = $5, next_attempt_at_ms = NULL, resolution = $6::jsonb,
                lease_token = NULL, lease_until = NULL, updated_at = now()
          WHERE payout_id = $1 AND status = 'NEEDS_RECONCILIATION' AND ($2::uuid IS NULL OR lease_token = $2::uuid)
          RETURNING payout_id)
       SELECT payout_id FROM resolved`,
      [payoutId, leaseToken, next.status, next.reference, next.failureReason, JSON.stringify(resolution)],
    );
    return rows.length === 1;
  }

  /** One payout as stored, for an operator's command; null when there is none under this id. */
  async find(payoutId: string): Promise<SagaRow | null> {
    const rows: RawRow[] = await this.dataSource.query(
      `SELECT payout_id, epoch, account, asset, amount_minor::text, rail, status, attempts, first_attempt_at_ms::text, next_attempt_at_ms::text,
              reference, failure_reason, coalesce(lease_token::text, '') AS lease_token, ${NOW_MS}::text AS now_ms
         FROM payouts WHERE payout_id = $1`,
      [payoutId],
    );
    return rows[0] ? toSagaRow(rows[0]) : null;
  }

  /** How many payouts wait for a definite answer, for the alert gauge. */
  async countWaiting(): Promise<number> {
    const rows: Array<{ waiting: string }> = await this.dataSource.query(
      `SELECT count(*)::text AS waiting FROM payouts WHERE status = 'NEEDS_RECONCILIATION'`,
    );
    return Number(rows[0]?.waiting ?? 0);
  }
}

/** A definite answer as recorded with the payout: from the rail's status query or an operator. */
export interface StoredResolution {
  readonly source: 'rail-status' | 'operator';
  readonly outcome: 'settled' | 'refused';
  readonly detail: string;
  readonly by: string;
  readonly at: string;
  readonly evidence: string;
}
