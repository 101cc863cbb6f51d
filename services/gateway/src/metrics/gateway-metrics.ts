import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { RejectionReason } from '../ingest/rejection';

/** The gateway's Prometheus metrics, on a registry of its own (served at GET /metrics). */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly accepted = new Counter({
    name: 'gateway_events_accepted_total',
    help: 'Events Kafka acknowledged (or replayed from an earlier acknowledgement), by event type and mode',
    labelNames: ['event_type', 'mode', 'replayed'] as const,
    registers: [this.registry],
  });

  readonly rejected = new Counter({
    name: 'gateway_requests_rejected_total',
    help: 'Requests refused, by reason (invalid, unauthenticated, forbidden, conflict, in_flight, too_large, batch_too_large, malformed_json, unavailable, overloaded, rate_limited)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Alert on a rising `unknown` rate: someone is trying keys. Bounded per address by GATEWAY_AUTH_FAILURES_PER_ADDRESS. */
  readonly keyLookups = new Counter({
    name: 'gateway_key_lookups_total',
    help: 'API key look-ups that reached the database (cache misses), by outcome (live, unknown)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'Time from request to response of the ingest endpoints, by route and status',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_' });
  }

  reject(reason: RejectionReason): void {
    this.rejected.inc({ reason });
  }
}
