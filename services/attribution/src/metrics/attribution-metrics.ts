import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What a decided batch tells the metrics; the Decider reports through it and knows nothing of Prometheus. */
export interface DecisionObserver {
  batchDecided(outcome: {
    readonly records: number;
    readonly decisions: number;
    readonly orderingWaitMs: number;
    readonly durationMs: number;
  }): void;
  rejected(reason: string): void;
  /** Re-deliveries of inferences already decided (same inferenceId and content): skipped, and counted here. */
  duplicatesSkipped(topic: string, count: number): void;
}

const FIELD_LENGTH_MAX = 64;

/**
 * The field a DLQ reason names ("feeMinor: at most …", "attributions[3].scorePpm: …"), list indexes
 * folded, so the label takes a bounded set of values whatever the records hold.
 */
export function rejectedField(reason: string): string {
  const colon = reason.indexOf(':');
  const field = colon > 0 ? reason.slice(0, colon).replace(/\[\d+\]/g, '[]') : '';
  return /^[A-Za-z_][\w.[\]-]*$/.test(field) ? field.slice(0, FIELD_LENGTH_MAX) : 'other';
}

/**
 * The decider's Prometheus metrics, on a registry of its own (not prom-client's global one), so a second
 * instance in one process never collides on metric names. Lag is Kafka's to tell: `kafka-consumer-groups`
 * reads both of the service's groups.
 */
export class AttributionMetrics implements DecisionObserver {
  readonly registry = new Registry();
  readonly decisions = new Counter({
    name: 'attribution_decisions_total',
    help: 'InferenceAttributed decisions published (in committed or retried transactions).',
    registers: [this.registry],
  });
  readonly recordsRejected = new Counter({
    name: 'attribution_records_rejected_total',
    help: 'Inference records refused to the DLQ, by the field their reason names (a retried batch counts again).',
    labelNames: ['field'],
    registers: [this.registry],
  });
  // The ledger projector's name and label, so one query sums re-deliveries across services (each its own registry).
  readonly duplicates = new Counter({
    name: 'duplicates_skipped_total',
    help: 'Re-deliveries of inferences already decided (same topic, inferenceId and content), skipped with no second decision, by source topic (a retried batch counts again).',
    labelNames: ['topic'],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'attribution_batch_size_records',
    help: 'Inference records per decided batch.',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
    registers: [this.registry],
  });
  readonly batchDuration = new Histogram({
    name: 'attribution_batch_duration_seconds',
    help: 'Time to decide and store one batch, ordering wait included, before its Kafka transaction commits.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly orderingWait = new Histogram({
    name: 'attribution_ordering_wait_seconds',
    help: 'Time a batch waited for the table topics to pass its latest inference time (the as-of ordering rule).',
    buckets: [0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  batchDecided(outcome: { records: number; decisions: number; orderingWaitMs: number; durationMs: number }): void {
    this.decisions.inc(outcome.decisions);
    this.batchSize.observe(outcome.records);
    this.batchDuration.observe(outcome.durationMs / 1000);
    this.orderingWait.observe(outcome.orderingWaitMs / 1000);
  }

  rejected(reason: string): void {
    this.recordsRejected.inc({ field: rejectedField(reason) });
  }

  duplicatesSkipped(topic: string, count: number): void {
    this.duplicates.inc({ topic }, count);
  }
}
