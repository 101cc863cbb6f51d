import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProjectionObserver } from '../projection/ledger-writer';

/**
 * The projector's Prometheus metrics, on a registry of its own (not prom-client's global one), so a
 * second instance in one process (a test, the rebuild CLI) never collides on metric names.
 */
export class LedgerMetrics implements ProjectionObserver {
  readonly registry = new Registry();
  readonly eventsApplied = new Counter({
    name: 'ledger_events_applied_total',
    help: 'Events that changed the ledger, by source topic.',
    labelNames: ['topic'],
    registers: [this.registry],
  });
  readonly recordsRejected = new Counter({
    name: 'ledger_records_rejected_total',
    help: 'Records sent to the DLQ, by source topic and rule.',
    labelNames: ['topic', 'rule'],
    registers: [this.registry],
  });
  readonly invariantViolations = new Counter({
    name: 'ledger_invariant_violations_total',
    help: 'Events refused because applying them would break a ledger invariant (a payout overdraft). Alert on any increase.',
    labelNames: ['rule'],
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'duplicates_skipped_total',
    help: 'Re-deliveries of events already applied (same topic, event id and content), skipped with no effect, by source topic.',
    labelNames: ['topic'],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'ledger_batch_size_records',
    help: 'Records per applied batch.',
    labelNames: ['topic'],
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    registers: [this.registry],
  });
  readonly batchDuration = new Histogram({
    name: 'ledger_batch_duration_seconds',
    help: 'Time to apply one batch, database commit included.',
    labelNames: ['topic'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly lagRecords = new Gauge({
    name: 'ledger_projection_lag_records',
    help: 'Records in the partition not yet applied (high watermark minus the stored next offset).',
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
  });
  readonly lagMs = new Gauge({
    name: 'ledger_projection_lag_ms',
    help: 'Age of the last applied record of the partition when it was applied (now minus its Kafka timestamp).',
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  rejected(topic: string, rule: string): void {
    this.recordsRejected.inc({ topic, rule });
  }

  invariantViolated(rule: string): void {
    this.invariantViolations.inc({ rule });
  }

  duplicatesSkipped(topic: string, count: number): void {
    this.duplicates.inc({ topic }, count);
  }
}
