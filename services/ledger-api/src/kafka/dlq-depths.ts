import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createKafkaClient, KAFKA_RETRY_DEFAULT } from '@tributary/kafka-client';
import { kafkaClientOptions } from '@tributary/config';
import { catalogFor, deadLetterTopicName, ledgerApiReaderGroupPrefix, topicPrefix } from '@tributary/contracts';
import { DLQ_PARTITION, DeadLetterTally, readPartition } from '@tributary/messaging';
import { LEDGER_API_CONFIG, type LedgerApiConfig } from '../ledger-api.config';

export interface DlqGroupDepth {
  readonly group: string;
  readonly topic: string;
  /** Dead letters not re-driven; null while the DLQ was never read. */
  readonly depth: number | null;
  readonly deadLetters: number | null;
  readonly redriven: number | null;
  /** The DLQ's end offset at the last read, and how far the count has read (equal once caught up). */
  readonly endOffset: string | null;
  readonly countedTo: string | null;
  readonly problem: string | null;
}

export interface DlqDepthSnapshot {
  readonly observedAt: string;
  /** Every group's depth summed; null when a DLQ was never read. */
  readonly depth: number | null;
  readonly groups: DlqGroupDepth[];
}

/** Records read per DLQ in one refresh: a huge DLQ is counted over several refreshes rather than in one long read. */
const RECORDS_PER_REFRESH_MAX = 50_000;

/**
 * The depth of every consumer group's DLQ (dead letters not re-driven), for the status and /metrics.
 * Cheap and bounded: at most one refresh per LEDGER_API_DLQ_DEPTH_TTL_MS, concurrent callers share it;
 * a refresh asks each DLQ for its end offset and reads only the records added since the last one
 * (a tally per DLQ is kept), at most RECORDS_PER_REFRESH_MAX each, every call bounded by
 * LEDGER_API_KAFKA_TIMEOUT_MS. Kafka down leaves the last counts standing, with the problem named.
 */
@Injectable()
export class DlqDepths implements OnApplicationShutdown {
  private readonly kafka: Kafka;
  private readonly catalog = catalogFor(topicPrefix());
  private readonly tallies = new Map<string, DeadLetterTally>();
  private readonly rows = new Map<string, DlqGroupDepth>();
  private snapshot: { readonly at: number; readonly value: DlqDepthSnapshot } | null = null;
  private refreshing: Promise<DlqDepthSnapshot> | null = null;
  private admin: Admin | null = null;

  constructor(@Inject(LEDGER_API_CONFIG) private readonly config: LedgerApiConfig) {
    this.kafka = createKafkaClient({
      ...kafkaClientOptions(config, `${config.KAFKA_CLIENT_ID}-ledger-api-dlq`),
      logLevel: logLevel.NOTHING,
      connectionTimeoutMs: Math.min(config.LEDGER_API_KAFKA_TIMEOUT_MS, 10_000),
      requestTimeoutMs: config.LEDGER_API_KAFKA_TIMEOUT_MS,
      retry: { ...KAFKA_RETRY_DEFAULT, retries: 1 },
    });
  }

  /** The counts, at most LEDGER_API_DLQ_DEPTH_TTL_MS old. */
  async current(): Promise<DlqDepthSnapshot> {
    if (this.snapshot && Date.now() - this.snapshot.at < this.config.LEDGER_API_DLQ_DEPTH_TTL_MS)
      return this.snapshot.value;
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** The last counts without waiting for Kafka (what /metrics shows while a refresh runs). */
  latest(): DlqDepthSnapshot | null {
    return this.snapshot?.value ?? null;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async refresh(): Promise<DlqDepthSnapshot> {
    for (const group of Object.values(this.catalog.groups)) {
      const topic = deadLetterTopicName(group);
      try {
        this.rows.set(group, await this.count(group, topic));
      } catch (error) {
        const previous = this.rows.get(group);
        this.rows.set(group, { ...(previous ?? emptyRow(group, topic)), problem: (error as Error).message });
        if (this.admin) await this.admin.disconnect().catch(() => undefined);
        this.admin = null;
      }
    }
    const groups = [...this.rows.values()];
    const value: DlqDepthSnapshot = {
      observedAt: new Date().toISOString(),
      depth: groups.some((row) => row.depth === null) ? null : groups.reduce((sum, row) => sum + row.depth!, 0),
      groups,
    };
    this.snapshot = { at: Date.now(), value };
    return value;
  }

  private async count(group: string, topic: string): Promise<DlqGroupDepth> {
    const admin = await this.connectedAdmin();
    let tally = this.tallies.get(topic) ?? new DeadLetterTally();
    const read = async () =>
      readPartition(this.kafka, admin, {
        topic,
        partition: DLQ_PARTITION,
        from: tally.nextOffset,
        groupId: `${ledgerApiReaderGroupPrefix(this.catalog)}dlq-${randomUUID()}`,
        timeoutMs: this.config.LEDGER_API_KAFKA_TIMEOUT_MS,
        recordsMax: RECORDS_PER_REFRESH_MAX,
      });
    let result = await read();
    if (BigInt(result.endOffset) < BigInt(tally.nextOffset)) {
      // The DLQ is shorter than what was counted: it was recreated. Count it again from its start.
      tally = new DeadLetterTally();
      result = await read();
    }
    for (const record of result.records) tally.add(record);
    tally.advanceTo(result.end);
    this.tallies.set(topic, tally);
    return {
      group,
      topic,
      depth: tally.depth,
      deadLetters: tally.deadLetters,
      redriven: tally.redriven,
      endOffset: result.endOffset,
      countedTo: tally.nextOffset,
      problem: null,
    };
  }

  private async connectedAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    const admin = this.kafka.admin();
    await admin.connect();
    this.admin = admin;
    return admin;
  }
}

function emptyRow(group: string, topic: string): DlqGroupDepth {
  return {
    group,
    topic,
    depth: null,
    deadLetters: null,
    redriven: null,
    endOffset: null,
    countedTo: null,
    problem: null,
  };
}
