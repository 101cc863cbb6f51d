import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { DlqDepths, type DlqDepthSnapshot, type DlqGroupDepth } from './dlq-depths';

/**
 * The ledger API's Prometheus metrics (GET /metrics), on a registry of its own: the depth of every
 * consumer group's DLQ, read at scrape time from DlqDepths (at most one Kafka refresh per TTL, shared
 * by every gauge of the scrape).
 */
@Injectable()
export class LedgerApiMetrics {
  readonly registry = new Registry();

  readonly rateLimited = new Counter({
    name: 'ledger_api_requests_rate_limited_total',
    help: 'Requests refused with 429 by the rate limit (LEDGER_API_RATE_LIMIT_PER_CREDENTIAL or _PER_ADDRESS per LEDGER_API_RATE_LIMIT_WINDOW_MS).',
    registers: [this.registry],
  });

  readonly credentialLookups = new Counter({
    name: 'ledger_api_credential_lookups_total',
    help: 'Read credentials looked up in the database, by what was found (live, unknown); cached and malformed ones are not looked up.',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  constructor(@Inject(DlqDepths) depths: DlqDepths) {
    const read = (): Promise<DlqDepthSnapshot | null> => depths.current().catch(() => depths.latest());
    const perGroup = (name: string, help: string, value: (row: DlqGroupDepth) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['group'],
        registers: [this.registry],
        async collect() {
          for (const row of (await read())?.groups ?? []) {
            const current = value(row);
            if (current !== null) this.set({ group: row.group }, current);
          }
        },
      });
    perGroup(
      'dlq_depth',
      'Dead letters of the consumer group not re-driven yet (its DLQ topic, minus re-drive markers).',
      (row) => row.depth,
    );
    perGroup(
      'dlq_dead_letters',
      "Dead letters in the consumer group's DLQ topic, re-driven or not.",
      (row) => row.deadLetters,
    );
    perGroup(
      'dlq_redriven',
      'Dead letters of the consumer group re-driven to their source topic.',
      (row) => row.redriven,
    );
    new Gauge({
      name: 'dlq_depth_read_ok',
      help: '1 when every DLQ was read at the last refresh; 0 when one was not (its depth is then the last one read).',
      registers: [this.registry],
      async collect() {
        const snapshot = await read();
        this.set(snapshot !== null && snapshot.groups.every((row) => row.problem === null) ? 1 : 0);
      },
    });
  }
}
