import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The payouts service's Prometheus metrics, on a registry of its own (a CLI in the same process never collides). */
export class PayoutsMetrics {
  readonly registry = new Registry();
  readonly published = new Counter({
    name: 'payouts_events_published_total',
    help: 'Payout events acknowledged by Kafka, by type (re-publishes after a crash count again).',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly attempts = new Counter({
    name: 'payouts_rail_attempts_total',
    help: 'Rail calls, by rail and answer (paid, refused, unknown).',
    labelNames: ['rail', 'outcome'],
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'payouts_refused_by_ledger_total',
    help: 'Requests the ledger read past without reserving (it dead-lettered them). Alert on any increase.',
    registers: [this.registry],
  });
  /**
   * Payouts ended REFUSED, so nothing went to a rail, by reason: the field on which the ledger's reservation
   * differs from the plan (accountId, asset, amountMinor, epoch), or ledger_refused (dead-lettered). Alert on any increase.
   */
  readonly refusedPayouts = new Counter({
    name: 'payouts_refused_total',
    help: 'Payouts refused before any rail call, by reason (accountId, asset, amountMinor, epoch: the ledger reserved something else than the plan; ledger_refused: the ledger dead-lettered the request). Alert on any increase.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  /** Alert while above zero: each is money that may have left, waiting for the rail's or an operator's definite answer. */
  readonly needsReconciliation = new Gauge({
    name: 'payouts_needs_reconciliation',
    help: 'Payouts whose rail gave no definite answer; their amount stays reserved until reconciled. Alert while above zero.',
    registers: [this.registry],
  });
  readonly reconciled = new Counter({
    name: 'payouts_reconciled_total',
    help: 'Payouts moved out of NEEDS_RECONCILIATION, by source (rail-status, operator) and outcome (settled, refused).',
    labelNames: ['source', 'outcome'],
    registers: [this.registry],
  });
  readonly epochsClosed = new Counter({
    name: 'payouts_epochs_closed_total',
    help: 'Epochs this instance closed, by trigger (interval, operator).',
    labelNames: ['trigger'],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'payouts_requests_rate_limited_total',
    help: 'HTTP requests refused with 429 by the rate limit (PAYOUTS_RATE_LIMIT_PER_CREDENTIAL or _PER_ADDRESS per PAYOUTS_RATE_LIMIT_WINDOW_MS).',
    registers: [this.registry],
  });
  readonly credentialLookups = new Counter({
    name: 'payouts_credential_lookups_total',
    help: 'Read credentials looked up in the database, by what was found (live, unknown); cached and malformed ones are not looked up.',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly workerFailures = new Gauge({
    name: 'payouts_worker_consecutive_failures',
    help: 'Saga worker ticks that failed in a row (the process exits at the limit).',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
