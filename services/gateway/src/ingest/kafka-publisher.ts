import { kafkaClientOptions } from '@tributary/config';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { RECORD_BATCH_OVERHEAD_BYTES, type OutboundRecord } from '@tributary/contracts';
import {
  assertRecordFits,
  BATCH_EVENTS_MAX,
  outboundRecordBytes,
  RecordTooLargeError,
  type PublishResult,
} from '@tributary/producer';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { GroupCommitter } from './group-commit';
import { KafkaSender, type KafkaSenderOptions } from './kafka-sender';
import { KafkaOverloadedError, KafkaUnavailableError } from './rejection';

/**
 * Sends what the gateway accepted. Single events are group-committed: while one send is in flight the
 * next events queue, and go together in the next send (one produce request, each event still acked
 * and reported on its own), because an idempotent producer allows one request in flight and a send per
 * event would cap the gateway at one broker round trip per event. Batches are group-committed too: each
 * transactional producer of a small pool runs one transaction at a time, and the batches that arrive
 * while all of them are busy go together in the next free one's transaction. A batch stays all or
 * nothing (the transaction holding it is), and the broker commits one transaction, not one per request.
 * After a Kafka failure, requests are refused at once for a short cooldown instead of each waiting on
 * a broker that is down.
 */
@Injectable()
export class KafkaPublisher implements OnModuleDestroy {
  private readonly logger = new Logger(KafkaPublisher.name);
  private readonly singles: GroupCommitter<OutboundRecord, PublishResult>;
  private single: Promise<KafkaSender> | undefined;
  private readonly batches: GroupCommitter<readonly OutboundRecord[], PublishResult[]>;
  private readonly idle: number[] = [];
  private readonly transactional: Array<Promise<KafkaSender> | undefined>;
  private unavailableUntilMs = 0;
  private lastFailure = '';

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.transactional = Array.from({ length: config.GATEWAY_TRANSACTIONAL_PRODUCERS }, () => undefined);
    this.transactional.forEach((_, slot) => this.idle.push(slot));
    this.singles = new GroupCommitter(
      (records) => this.sendSingles(records),
      BATCH_EVENTS_MAX,
      config.GATEWAY_SINGLE_QUEUE_MAX,
      (queued) => new KafkaOverloadedError(`${queued} events are already waiting for Kafka`),
      // One send holds what one produce request may (each record weighed with a batch header of its own,
      // an upper bound), so events that together are too large for one request go in several sends, each
      // acknowledged on its own: never a send that fails for every caller because of their sum.
      {
        weigh: (record) => RECORD_BATCH_OVERHEAD_BYTES + outboundRecordBytes(record),
        perCallMax: config.GATEWAY_REQUEST_BYTES_MAX,
      },
    );
    this.batches = new GroupCommitter(
      (batches) => this.sendBatches(batches),
      BATCHES_PER_TRANSACTION_MAX,
      config.GATEWAY_BATCH_WAITERS_MAX,
      (queued) => new KafkaOverloadedError(`${queued} batches are already waiting for a transactional producer`),
      // One transaction holds at most BATCH_EVENTS_MAX records, however many batches share it.
      { weigh: (records) => records.length, perCallMax: BATCH_EVENTS_MAX },
      config.GATEWAY_TRANSACTIONAL_PRODUCERS,
    );
  }

  /** Seconds until the cooldown after a Kafka failure ends; 0 when Kafka is believed up. */
  get cooldownRemainingMs(): number {
    return Math.max(0, this.unavailableUntilMs - Date.now());
  }

  /** One event; resolves once Kafka acknowledged it. */
  async publishOne(record: OutboundRecord): Promise<PublishResult> {
    this.assertNotCoolingDown();
    return this.singles.submit(record);
  }

  /** Up to BATCH_EVENTS_MAX events in one Kafka transaction: all acknowledged, or none written. */
  async publishAtomically(records: readonly OutboundRecord[]): Promise<PublishResult[]> {
    if (records.length > BATCH_EVENTS_MAX) throw new RangeError(`at most ${BATCH_EVENTS_MAX} records per transaction`);
    this.assertNotCoolingDown();
    // Checked here, alone: a record too large must fail its own batch, never the transaction it would share.
    for (const record of records) assertRecordFits(record, this.config.GATEWAY_REQUEST_BYTES_MAX);
    return this.batches.submit(records);
  }

  async onModuleDestroy(): Promise<void> {
    const senders = [this.single, ...this.transactional].filter(
      (sender): sender is Promise<KafkaSender> => sender !== undefined,
    );
    await Promise.all(
      senders.map((sender) =>
        sender.then(
          (connected) => connected.disconnect(),
          () => undefined,
        ),
      ),
    );
  }

  private async sendSingles(records: readonly OutboundRecord[]): Promise<PublishResult[]> {
    if (this.single === undefined) {
      const connecting = this.connect({});
      // A failed connect is not kept: the next call connects again.
      connecting.catch(() => {
        if (this.single === connecting) this.single = undefined;
      });
      this.single = connecting;
    }
    return this.sendOrFail(await this.single, records);
  }

  private async sendOrFail(sender: KafkaSender, records: readonly OutboundRecord[]): Promise<PublishResult[]> {
    try {
      return await sender.send(records);
    } catch (error) {
      // A record too large was refused before anything was sent: Kafka is fine.
      if (error instanceof RecordTooLargeError) throw error;
      this.noteFailure(error as Error);
      throw error;
    }
  }

  private connect(extra: Partial<KafkaSenderOptions>): Promise<KafkaSender> {
    const connecting = KafkaSender.connect({
      ...kafkaClientOptions(this.config, `${this.config.KAFKA_CLIENT_ID}-gateway`),
      ackTimeoutMs: this.config.GATEWAY_ACK_TIMEOUT_MS,
      requestBytesMax: this.config.GATEWAY_REQUEST_BYTES_MAX,
      ...extra,
    });
    connecting.catch((error: Error) => this.noteFailure(error));
    return connecting;
  }

  private transactionalSender(slot: number): Promise<KafkaSender> {
    let sender = this.transactional[slot];
    if (sender === undefined) {
      // Stable per instance and slot: a restarted gateway fences its previous incarnation's open transactions.
      const transactionalId = `${this.config.TRIBUTARY_TOPIC_PREFIX}tributary.gateway.${this.config.GATEWAY_INSTANCE_ID}.tx-${slot}`;
      sender = this.connect({ transactionalId });
      sender.catch(() => (this.transactional[slot] = undefined));
      this.transactional[slot] = sender;
    }
    return sender;
  }

  /** The batches in one transaction on an idle producer of the pool; each caller gets its own batch's results. */
  private async sendBatches(batches: ReadonlyArray<readonly OutboundRecord[]>): Promise<PublishResult[][]> {
    // The committer runs at most one call per producer, so one is always idle here.
    const slot = this.idle.pop();
    if (slot === undefined) throw new Error('no idle transactional producer: more calls than producers');
    try {
      const sender = await this.transactionalSender(slot);
      const results = await this.sendOrFail(sender, batches.flat());
      let start = 0;
      return batches.map((batch) => results.slice(start, (start += batch.length)));
    } finally {
      this.idle.push(slot);
    }
  }

  private assertNotCoolingDown(): void {
    if (this.cooldownRemainingMs > 0)
      throw new KafkaUnavailableError(`Kafka failed recently (${this.lastFailure}); not trying again for a moment`);
  }

  private noteFailure(error: Error): void {
    this.lastFailure = error.message;
    this.unavailableUntilMs = Date.now() + this.config.GATEWAY_KAFKA_COOLDOWN_MS;
    this.logger.warn(`Kafka unavailable: ${error.message}`);
  }
}

/** Batches sharing one transaction at most (their records at most BATCH_EVENTS_MAX in all). */
const BATCHES_PER_TRANSACTION_MAX = 100;

export { KafkaUnavailableError };
