import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { describeError } from '@tributary/messaging';
import type { EventToPublish } from '@tributary/producer';
import { evolveSaga, reservationMismatch, type RetryPolicy, type SagaObservation } from '@tributary/payouts';
import type { PayoutsMetrics } from '../payouts-metrics';
import type { PayoutRail } from '../rails/rail';
import { closeEpoch, lastClosedAtMs, missingLedgerTables, type EpochCloserOptions } from './epoch-closer';
import type { PayoutPublisher } from './payout-publisher';
import { type SagaStore, type SagaRow } from './saga-store';

export interface SagaWorkerOptions {
  readonly ledgerSchema: string;
  readonly ledgerGroupId: string;
  readonly payoutsTopic: string;
  readonly retry: RetryPolicy;
  readonly stepBatchMax: number;
  readonly pollIntervalMs: number;
  /** A rail call may take this long; its lease lasts longer, so a live call is never taken over. */
  readonly railTimeoutMs: number;
  /** How long a payout waiting for reconciliation waits before its rail's status is asked again. */
  readonly reconcileIntervalMs: number;
  readonly autoClose: (EpochCloserOptions & { readonly intervalMs: number }) | null;
}

const PUBLISH_LEASE_MS = 60_000;
const LEASE_MARGIN_MS = 5_000;
const RAIL_CALLS_CONCURRENT_MAX = 8;
/** After this many failed ticks in a row (the database or Kafka is gone), the process exits for its supervisor. */
const CONSECUTIVE_FAILURES_MAX = 30;
const LEDGER_WAIT_LOG_INTERVAL_MS = 60_000;

/**
 * Drives every saga one step at a time, in a loop: publish planned requests, observe the ledger's
 * reservations, call the rail for reserved payouts, publish the end of confirmed or abandoned ones.
 * Each step reads its rows from PostgreSQL, so whatever a killed instance left half done is simply
 * the next step of some row: restarting resumes it.
 */
export class SagaWorker {
  private readonly logger = new Logger('SagaWorker');
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly startedAtMs = Date.now();

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: SagaStore,
    private readonly publisher: PayoutPublisher,
    private readonly rails: ReadonlyMap<string, PayoutRail>,
    private readonly options: SagaWorkerOptions,
    private readonly metrics: PayoutsMetrics,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Runs the next poll now (after an operator closed an epoch, say). */
  nudge(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    let ledgerReady = false;
    while (this.running) {
      let progressed = 0;
      try {
        ledgerReady ||= await this.ledgerFound();
        if (ledgerReady) progressed = await this.tick();
        failures = 0;
      } catch (error) {
        failures += 1;
        this.logger.error(`saga step failed (${failures} in a row): ${describeError(error)}`);
        if (failures >= CONSECUTIVE_FAILURES_MAX) {
          this.logger.fatal(`saga steps failed ${failures} times in a row: exiting for the supervisor to restart`);
          process.exit(1);
        }
      }
      this.metrics.workerFailures.set(failures);
      if (progressed === 0 && this.running) await this.sleep(this.options.pollIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  private waitingForLedgerSinceMs: number | null = null;
  private waitingLoggedAtMs = 0;

  /**
   * Whether the ledger's read model, which every step reads, exists yet. The ledger projector creates it
   * on its first start, so on a fresh database this service may come up first: that is a wait, said once
   * (and again each minute it lasts), not a failed step.
   */
  private async ledgerFound(): Promise<boolean> {
    const missingTables = await missingLedgerTables(this.dataSource, this.options.ledgerSchema);
    const nowMs = Date.now();
    if (missingTables.length === 0) {
      if (this.waitingForLedgerSinceMs !== null)
        this.logger.log(
          `the ledger read model is there after ${Math.round((nowMs - this.waitingForLedgerSinceMs) / 1000)} s: saga steps start`,
        );
      this.waitingForLedgerSinceMs = null;
      return true;
    }
    const missing = missingTables.join(', ');
    if (this.waitingForLedgerSinceMs === null) {
      this.waitingForLedgerSinceMs = nowMs;
      this.waitingLoggedAtMs = nowMs;
      this.logger.log(
        `waiting for the ledger read model: ${missing} not created yet (the ledger projector creates it on its first start)`,
      );
    } else if (nowMs - this.waitingLoggedAtMs >= LEDGER_WAIT_LOG_INTERVAL_MS) {
      this.waitingLoggedAtMs = nowMs;
      this.logger.warn(
        `still waiting for the ledger read model after ${Math.round((nowMs - this.waitingForLedgerSinceMs) / 1000)} s: ${missing} missing; is the ledger projector running on this database with schema ${this.options.ledgerSchema}?`,
      );
    }
    return false;
  }

  /** One pass over every step; returns how many sagas moved. */
  async tick(): Promise<number> {
    await this.closeDueEpoch();
    const moved =
      (await this.publishPlanned()) +
      (await this.observeLedger()) +
      (await this.publishEnds()) +
      (await this.attemptDue()) +
      (await this.reconcileDue());
    this.metrics.needsReconciliation.set(await this.store.countWaiting());
    return moved;
  }

  private async closeDueEpoch(): Promise<void> {
    const auto = this.options.autoClose;
    if (!auto) return;
    const sinceMs = (await lastClosedAtMs(this.dataSource)) ?? this.startedAtMs;
    if (Date.now() - sinceMs < auto.intervalMs) return;
    const closed = await closeEpoch(this.dataSource, auto, undefined, 'interval');
    if (closed.created) {
      this.metrics.epochsClosed.inc({ trigger: 'interval' });
      this.logger.log(`epoch ${closed.epoch} closed on the interval: ${closed.payoutCount} payouts planned`);
    }
  }

  private async publishPlanned(): Promise<number> {
    const rows = await this.store.claim(['PLANNED'], PUBLISH_LEASE_MS, this.options.stepBatchMax, false);
    if (rows.length === 0) return 0;
    const events: EventToPublish[] = rows.map((row) => ({
      type: 'PayoutRequested',
      data: {
        eventId: `${row.payoutId}:requested`,
        payoutId: row.payoutId,
        accountId: row.accountId,
        occurredAt: BigInt(row.nowMs),
        asset: row.asset,
        amountMinor: row.amountMinor,
        epoch: row.epoch,
      },
    }));
    const results = await this.publisher.publish(events);
    this.metrics.published.inc({ type: 'PayoutRequested' }, results.length);
    for (const [index, row] of rows.entries()) {
      const landed = results[index]!;
      await this.store.save(row, this.evolve(row, { type: 'RequestPublished' }), {
        requestPartition: landed.partition,
        requestOffset: landed.offset,
      });
    }
    return rows.length;
  }

  /**
   * Moves REQUESTED payouts on by what the ledger holds under their ids. A reservation goes through the
   * pure rule (evolveSaga): only one equal to the plan in account, asset, amount and epoch lets the payout
   * reach a rail; any other ends it REFUSED, with the differing field counted for the alert.
   */
  private async observeLedger(): Promise<number> {
    const seen = await this.store.requestedAgainstLedger(
      this.options.ledgerSchema,
      this.options.ledgerGroupId,
      this.options.payoutsTopic,
      this.options.stepBatchMax,
    );
    let moved = 0;
    for (const payout of seen) {
      if (payout.reservation) {
        const next = evolveSaga(
          payout.state,
          { type: 'LedgerReserved', plan: payout.plan, ledger: payout.reservation },
          this.options.retry,
        );
        if (next.status === 'SETTLING') {
          if (await this.store.markObserved(payout.payoutId, 'SETTLING', null)) moved += 1;
        } else if (await this.store.markObserved(payout.payoutId, 'REFUSED', next.failureReason)) {
          moved += 1;
          this.metrics.refusedPayouts.inc({
            reason: reservationMismatch(payout.plan, payout.reservation)?.field ?? 'unknown',
          });
          this.logger.error(`payout ${payout.payoutId} REFUSED: ${next.failureReason}`);
        }
      } else if (payout.readPast) {
        const reason =
          'the ledger refused the request (see the ledger projector DLQ): nothing was reserved, nothing is paid';
        if (await this.store.markObserved(payout.payoutId, 'REFUSED', reason)) {
          moved += 1;
          this.metrics.refused.inc();
          this.metrics.refusedPayouts.inc({ reason: 'ledger_refused' });
          this.logger.error(`payout ${payout.payoutId}: ${reason}`);
        }
      }
    }
    return moved;
  }

  private async publishEnds(): Promise<number> {
    const rows = await this.store.claim(['CONFIRMED', 'ABANDONED'], PUBLISH_LEASE_MS, this.options.stepBatchMax, false);
    if (rows.length === 0) return 0;
    const events: EventToPublish[] = rows.map((row) =>
      row.state.status === 'CONFIRMED'
        ? {
            type: 'PayoutSettled',
            data: {
              eventId: `${row.payoutId}:settled`,
              payoutId: row.payoutId,
              accountId: row.accountId,
              occurredAt: BigInt(row.nowMs),
              rail: row.rail,
              reference: row.state.reference!,
            },
          }
        : {
            type: 'PayoutFailed',
            data: {
              eventId: `${row.payoutId}:failed`,
              payoutId: row.payoutId,
              accountId: row.accountId,
              occurredAt: BigInt(row.nowMs),
              reason: row.state.failureReason ?? 'rail failed',
            },
          },
    );
    await this.publisher.publish(events);
    for (const event of events) this.metrics.published.inc({ type: event.type });
    for (const row of rows) await this.store.save(row, this.evolve(row, { type: 'EndPublished' }));
    return rows.length;
  }

  private async attemptDue(): Promise<number> {
    const leaseMs = this.options.railTimeoutMs + LEASE_MARGIN_MS;
    const rows = await this.store.claim(['SETTLING'], leaseMs, this.options.stepBatchMax, true);
    for (let start = 0; start < rows.length; start += RAIL_CALLS_CONCURRENT_MAX) {
      await Promise.all(rows.slice(start, start + RAIL_CALLS_CONCURRENT_MAX).map((row) => this.attempt(row)));
    }
    return rows.length;
  }

  /** One rail call for one payout, recorded before it is made; an attempt a crash interrupted is made again under its own number. */
  private async attempt(row: SagaRow): Promise<void> {
    // Times in a saga are on the database's clock (the claim read it); elapsed time is added locally.
    const claimedLocalMs = Date.now();
    const rail = this.rails.get(row.rail);
    if (!rail)
      throw new Error(`payout ${row.payoutId}: rail "${row.rail}" is not configured on this instance (PAYOUTS_RAIL)`);
    const last = await this.store.lastAttempt(row.payoutId);
    let started = row;
    let attempt: number;
    if (last && last.outcome === 'STARTED' && last.attempt === row.state.attempts) {
      attempt = last.attempt;
      await this.store.resumeAttempt(row, attempt);
      this.logger.warn(
        `payout ${row.payoutId}: resuming attempt ${attempt}, whose outcome a crash or a lost lease left unknown`,
      );
    } else {
      const next = this.evolve(row, { type: 'AttemptStarted', nowMs: row.nowMs });
      if (!(await this.store.startAttempt(row, next))) return;
      started = { ...row, state: next };
      attempt = next.attempts;
    }
    const answer = await rail.settle({
      payoutId: row.payoutId,
      accountId: row.accountId,
      asset: row.asset,
      amountMinor: row.amountMinor,
      epoch: row.epoch,
      attempt,
    });
    this.metrics.attempts.inc({ rail: rail.name, outcome: answer.type });
    const nowMs = row.nowMs + (Date.now() - claimedLocalMs);
    const next =
      answer.type === 'paid'
        ? this.evolve(started, { type: 'AttemptSucceeded', reference: answer.reference })
        : this.evolve(started, {
            type: 'AttemptFailed',
            reason: answer.reason,
            definite: answer.type === 'refused',
            nowMs,
          });
    const recorded = answer.type === 'paid' ? 'SUCCEEDED' : answer.type === 'refused' ? 'REFUSED' : 'FAILED';
    const saved = await this.store.endAttempt(
      started,
      attempt,
      next,
      recorded,
      answer.type === 'paid' ? answer.reference : answer.reason,
    );
    if (!saved)
      this.logger.warn(`payout ${row.payoutId}: lease lost during attempt ${attempt}; another instance resumes it`);
    else if (next.status === 'NEEDS_RECONCILIATION')
      this.logger.error(
        `payout ${row.payoutId} NEEDS_RECONCILIATION: ${next.failureReason}; its amount stays reserved until the rail's status or an operator answers`,
      );
    else if (answer.type !== 'paid')
      this.logger.warn(
        `payout ${row.payoutId}: attempt ${attempt} ${answer.type === 'refused' ? 'refused' : 'had no definite answer'} (${answer.reason}); now ${next.status}`,
      );
  }

  /**
   * Asks the rail what became of payouts waiting for reconciliation, where the rail offers a status
   * query; a definite answer moves the payout (once: the store fences on the status), anything else
   * asks again after PAYOUTS_RECONCILE_INTERVAL_MS. Without a status query only an operator moves them.
   */
  private async reconcileDue(): Promise<number> {
    const rows = await this.store.claim(
      ['NEEDS_RECONCILIATION'],
      this.options.railTimeoutMs + LEASE_MARGIN_MS,
      this.options.stepBatchMax,
      true,
    );
    let moved = 0;
    for (const row of rows) {
      const rail = this.rails.get(row.rail);
      const answer = rail?.status
        ? await rail.status(row.payoutId)
        : {
            type: 'unknown' as const,
            reason: `rail "${row.rail}" offers no status query: an operator must record the rail's answer`,
          };
      if (answer.type === 'unknown') {
        await this.store.save(
          row,
          this.evolve(row, {
            type: 'StatusUnknown',
            reason: answer.reason,
            nextQueryAtMs: row.nowMs + this.options.reconcileIntervalMs,
          }),
        );
        continue;
      }
      const outcome: 'settled' | 'refused' = answer.type === 'paid' ? 'settled' : 'refused';
      const detail = answer.type === 'paid' ? answer.reference : answer.reason;
      const next = this.evolve(row, { type: 'Reconciled', outcome: answer.type, detail });
      const resolution = {
        source: 'rail-status' as const,
        outcome,
        detail,
        by: `rail:${row.rail}`,
        at: new Date(row.nowMs).toISOString(),
        evidence: `status query by idempotency key ${row.payoutId}`,
      };
      if (await this.store.resolve(row.payoutId, row.leaseToken, next, resolution)) {
        moved += 1;
        this.metrics.reconciled.inc({ source: 'rail-status', outcome });
        this.logger.log(`payout ${row.payoutId} reconciled by the rail's status query: ${outcome} (${detail})`);
      }
    }
    return moved;
  }

  private evolve(row: SagaRow, observation: SagaObservation) {
    return evolveSaga(row.state, observation, this.options.retry);
  }
}
