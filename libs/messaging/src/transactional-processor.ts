import { kafkaSecurityOptions, type KafkaSecurity } from '@tributary/config';
import { Logger } from '@nestjs/common';
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type Message,
  type Producer,
  type Transaction,
} from 'kafkajs';
import {
  createConsumer,
  createIdempotentProducer,
  createKafkaClient,
  KAFKA_RETRY_DEFAULT,
  KAFKA_TRANSACTION_RETRY,
} from '@tributary/kafka-client';
import { deadLetterTopicName } from '@tributary/contracts';
import { deadLetterMessage } from './dead-letter';
import { toInboundRecord, type InboundRecord, type Rejection } from './inbound-batch';
import { applyIsolatingFaults, isRecordFault, type SliceOutcome } from './record-faults';
import { sendOffsetsRetrying } from './transaction-offsets';
import {
  assertBounded,
  chunk,
  describe,
  exitForRestart,
  RestartBudget,
  retryBackoffMs,
  sleep,
  sleepHeartbeating,
} from './support';

/**
 * Consume-transform-produce in Kafka transactions with kafkajs: each batch of one input partition
 * becomes one transaction holding its output records, its dead letters and the consumed offset
 * (sendOffsets), so a batch is either fully done or not at all, whatever crashes.
 *
 * kafkajs speaks only the old TxnOffsetCommit versions (no KIP-447 group-generation fencing), so
 * zombies are fenced the pre-KIP-447 way: one transactional id per input partition
 * (`<prefix>-<partition>`). Whoever starts working on a partition first initialises that id's producer,
 * which bumps its epoch, aborts (or completes) the previous holder's open transaction and makes every
 * later write of the previous holder fail. Only then is the handler told it claimed the partition, with
 * the group's committed offset read after the fence, so it can reconcile any state of its own.
 *
 * A broker that dies (the group coordinator, the transaction coordinator, a partition leader, the active
 * controller) stops the kafkajs consumer; the processor then starts a fresh consumer in the same process
 * after a wait, re-claiming every partition through the same fence, a bounded number of times in a row
 * (see `crashed`). Only past that bound does the service exit for its supervisor to restart it.
 */

export interface TransactionalProcessorOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** How the client authenticates (libs/config kafkaEnv); plaintext only when configured so. */
  readonly security: KafkaSecurity;
  readonly groupId: string;
  readonly inputTopic: string;
  /** Transactional ids are `<prefix>-<partition>`; keep it stable across deployments of one group. */
  readonly transactionalIdPrefix: string;
  readonly batchSizeMax: number;
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly partitionsConsumedConcurrently: number;
  readonly transactionTimeoutMs: number;
  readonly attemptsMax: number;
  readonly retryBackoffMs: number;
  /** Fresh consumers started in a row after crashes before the service gives up (default CONSUMER_RESTARTS_MAX). */
  readonly restartsMax?: number;
  /** Called once the restarts are spent; by default the service exits for its supervisor to restart it. */
  readonly onFatal?: (error: Error) => void;
}

export interface OutputRecord {
  readonly topic: string;
  /** Given explicitly so the caller controls placement (e.g. output partition = input partition). */
  readonly partition?: number;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

export interface ProcessedBatch {
  readonly outputs: readonly OutputRecord[];
  readonly rejections: readonly Rejection[];
  /**
   * Settles once the handler's own store of the batch is durable (its database commit), for a handler
   * that hands its outputs back before that. The outputs are sent while it settles; the transaction
   * commits only after it resolved, and aborts when it rejects, so Kafka never commits what the
   * handler's store does not hold.
   */
  readonly stored?: Promise<void>;
}

export interface ProcessContext {
  readonly partition: number;
  /** The claim this batch runs under; a handler that keeps state elsewhere fences with it. */
  readonly claimToken: string;
  /** Keeps the group membership alive during a long wait. */
  heartbeat(): Promise<void>;
  /** False once the partition moved to another member: stop waiting and give up the batch. */
  stillOwned(): boolean;
}

export interface TransactionalHandler {
  /**
   * Called once the partition's transactional producer fenced every earlier holder, before the first
   * batch of the claim. `committedOffset` is the group's committed offset read after the fence (null
   * when the group never committed one for the partition).
   */
  claimed(partition: number, claimToken: string, committedOffset: bigint | null): Promise<void>;
  process(records: readonly InboundRecord[], context: ProcessContext): Promise<ProcessedBatch>;
}

interface PartitionSession {
  readonly producer: Producer;
  readonly claimToken: string;
  readonly generation: number;
}

export class TransactionalProcessor {
  private readonly logger = new Logger(TransactionalProcessor.name);
  private readonly kafka: Kafka;
  private consumer: Consumer | null = null;
  private admin: Admin | null = null;
  private readonly sessions = new Map<number, PartitionSession>();
  private generation = 0;
  private claimCounter = 0;
  private readonly restarts: RestartBudget;
  private restarting: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly options: TransactionalProcessorOptions,
    private readonly handler: TransactionalHandler,
  ) {
    assertOptions(options);
    this.restarts = new RestartBudget(options.restartsMax);
    this.kafka = createKafkaClient({
      clientId: options.clientId,
      brokers: options.brokers,
      ...kafkaSecurityOptions(options.security),
    });
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.runConsumer();
    this.logger.log(`group ${this.options.groupId} transforming ${this.options.inputTopic} in transactions`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // A restart under way sees `stopping` after its wait and starts nothing more.
    await this.restarting;
    await this.consumer?.disconnect();
    this.consumer = null;
    await this.dropAllSessions();
    await this.admin?.disconnect();
    this.admin = null;
  }

  /**
   * A new kafkajs consumer joining the group. It neither retries nor restarts itself: any error stops
   * it (kafkajs then disconnects it, waiting for the batches in flight), and `crashed` starts a fresh
   * one here, so whatever a broker's death left behind (a lost coordinator, a half-done rebalance) is
   * never reused.
   */
  private async runConsumer(): Promise<void> {
    const consumer = createConsumer(this.kafka, {
      groupId: this.options.groupId,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      maxBytesPerPartition: this.options.maxBytesPerPartition,
      maxBytes: this.options.maxBytes,
      // No retries inside kafkajs: a batch's own retries are runWithRetries', and a failure past them
      // must not be tried again by kafkajs on a consumer whose group membership may be stale.
      retry: { ...KAFKA_RETRY_DEFAULT, retries: 0 },
      restartOnFailure: async () => false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => void this.rebalanced(event.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (event) => this.crashed(consumer, event.payload.error));
    await consumer.connect();
    await consumer.subscribe({ topics: [this.options.inputTopic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.consumeBatch(payload),
    });
  }

  private async consumeBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    for (const messages of chunk(batch.messages, this.options.batchSizeMax)) {
      if (!isRunning() || isStale()) return;
      const records = messages.map((message) => toInboundRecord(batch.topic, batch.partition, message));
      const owner = { heartbeat, stillOwned: () => isRunning() && !isStale() };
      const done = await applyIsolatingFaults(
        records,
        (slice) =>
          this.runWithRetries(batch.partition, slice, owner, () => this.transform(batch.partition, slice, owner)),
        async (record, error) => {
          const outcome = await this.runWithRetries(batch.partition, [record], owner, () =>
            this.deadLetterAlone(batch.partition, record, error),
          );
          if (outcome.kind !== 'done')
            throw new Error(
              `${this.options.inputTopic}[${batch.partition}]@${record.offset}: could not dead-letter the record (${outcome.kind})`,
            );
        },
      );
      if (!done) return;
      resolveOffset(messages[messages.length - 1]!.offset);
      this.restarts.progressed();
      await heartbeat();
    }
  }

  /**
   * Runs one slice as one transaction, retrying failures of the infrastructure a bounded number of
   * times. A failure the records caused (record-faults.ts) is not retried: the caller splits the slice
   * to find the record (a single record gets one more try first). `stopped` when the partition moved away.
   */
  private async runWithRetries(
    partition: number,
    records: readonly InboundRecord[],
    owner: { heartbeat(): Promise<void>; stillOwned(): boolean },
    work: () => Promise<void>,
  ): Promise<SliceOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      if (!owner.stillOwned()) return { kind: 'stopped' };
      try {
        await work();
        return { kind: 'done' };
      } catch (error) {
        // Whatever failed, this producer may be fenced or mid-transaction: start the next attempt from a fresh claim.
        await this.dropSession(partition);
        if (isRecordFault(error) && (records.length > 1 || attempt >= 2)) {
          if (records.length > 1)
            this.logger.warn(
              `${this.options.inputTopic}[${partition}] failed on records ${records[0]!.offset}..${records[records.length - 1]!.offset} (a fault of a record: looking for it): ${describe(error)}`,
            );
          return { kind: 'fault', error };
        }
        if (attempt >= this.options.attemptsMax) {
          throw new Error(
            `${this.options.inputTopic}[${partition}] failed ${attempt} times at offset ${records[0]!.offset}: ${describe(error)}`,
          );
        }
        const backoffMs = retryBackoffMs(this.options.retryBackoffMs, attempt, this.options.sessionTimeoutMs);
        this.logger.warn(
          `${this.options.inputTopic}[${partition}] attempt ${attempt} failed, retrying in ${backoffMs} ms: ${describe(error)}`,
        );
        await sleepHeartbeating(backoffMs, this.options.heartbeatIntervalMs, () => owner.heartbeat());
      }
    }
  }

  /**
   * A record the handler fails on alone, for a reason of its own: its dead letter and the offset past it
   * are committed in one transaction, so the partition goes on and the record is not lost.
   */
  private async deadLetterAlone(partition: number, record: InboundRecord, error: unknown): Promise<void> {
    const reason = `${describe(error)} (the handler failed on this record alone)`;
    const errorClass = error instanceof Error ? error.constructor.name : 'Rejected';
    const { transaction } = await this.begin(partition);
    try {
      await transaction.sendBatch({
        acks: -1,
        topicMessages: this.topicMessages({ outputs: [], rejections: [{ record, reason, errorClass }] }),
      });
      await sendOffsetsRetrying(transaction, {
        consumerGroupId: this.options.groupId,
        topics: [
          {
            topic: this.options.inputTopic,
            partitions: [{ partition, offset: (BigInt(record.offset) + 1n).toString() }],
          },
        ],
      });
      await transaction.commit();
    } catch (failure) {
      await transaction.abort().catch(() => undefined);
      throw failure;
    }
    this.logger.warn(
      `${this.options.inputTopic}[${partition}]@${record.offset} sent to ${deadLetterTopicName(this.options.groupId)}: ${reason}`,
    );
  }

  private async transform(
    partition: number,
    records: readonly InboundRecord[],
    owner: { heartbeat(): Promise<void>; stillOwned(): boolean },
  ) {
    const { session, transaction } = await this.begin(partition);
    try {
      const result = await this.handler.process(records, { partition, claimToken: session.claimToken, ...owner });
      const sent = (async () => {
        // Several sends in the one transaction: one record batch must stay under the topic's max.message.bytes.
        for (const topicMessages of bytesBounded(this.topicMessages(result), SEND_BYTES_MAX)) {
          await transaction.sendBatch({ acks: -1, topicMessages });
        }
      })();
      // The offsets are known already: they go with the outputs, not after them, and commit only with them.
      const nextOffset = (BigInt(records[records.length - 1]!.offset) + 1n).toString();
      const offsetsSent = sendOffsetsRetrying(transaction, {
        consumerGroupId: this.options.groupId,
        topics: [{ topic: this.options.inputTopic, partitions: [{ partition, offset: nextOffset }] }],
      });
      // All settle before anything goes on: an abort never races a request still in flight.
      await allSettledOrThrow([sent, offsetsSent, result.stored ?? Promise.resolve()]);
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  private topicMessages(result: ProcessedBatch) {
    const byTopic = new Map<string, Message[]>();
    for (const output of result.outputs) {
      const messages = byTopic.get(output.topic) ?? [];
      messages.push({
        key: output.key,
        value: output.value,
        headers: output.headers,
        ...(output.partition === undefined ? {} : { partition: output.partition }),
      });
      byTopic.set(output.topic, messages);
    }
    if (result.rejections.length > 0) {
      const failedAt = new Date();
      const deadLetters = result.rejections.map((rejection) =>
        deadLetterMessage(this.options.groupId, rejection, failedAt),
      );
      byTopic.set(deadLetterTopicName(this.options.groupId), deadLetters);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }

  /** The partition's session (claiming it first when needed) and a new transaction on it. */
  private async begin(partition: number): Promise<{ session: PartitionSession; transaction: Transaction }> {
    const existing = this.sessions.get(partition);
    if (existing !== undefined && existing.generation === this.generation) {
      return { session: existing, transaction: await existing.producer.transaction() };
    }
    if (existing !== undefined) await this.dropSession(partition);
    return this.claim(partition);
  }

  private async claim(partition: number): Promise<{ session: PartitionSession; transaction: Transaction }> {
    const producer = createIdempotentProducer(this.kafka, {
      transactionalId: `${this.options.transactionalIdPrefix}-${partition}`,
      transactionTimeout: this.options.transactionTimeoutMs,
      retry: KAFKA_TRANSACTION_RETRY,
    });
    await producer.connect();
    const session: PartitionSession = {
      producer,
      claimToken: `${process.pid}-${Date.now()}-${(this.claimCounter += 1)}`,
      generation: this.generation,
    };
    this.sessions.set(partition, session);
    // The first transaction() call runs InitProducerId: the fence. Nothing is sent before it returns.
    const transaction = await producer.transaction();
    try {
      const committedOffset = await this.committedOffset(partition);
      await this.handler.claimed(partition, session.claimToken, committedOffset);
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
    this.logger.log(
      `claimed ${this.options.inputTopic}[${partition}] as ${this.options.transactionalIdPrefix}-${partition}`,
    );
    return { session, transaction };
  }

  private async committedOffset(partition: number): Promise<bigint | null> {
    if (!this.admin) throw new Error('the processor is not started');
    const [topicOffsets] = await this.admin.fetchOffsets({
      groupId: this.options.groupId,
      topics: [this.options.inputTopic],
    });
    const offset = topicOffsets?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1';
    return BigInt(offset) < 0n ? null : BigInt(offset);
  }

  private async dropSession(partition: number): Promise<void> {
    const session = this.sessions.get(partition);
    this.sessions.delete(partition);
    await session?.producer.disconnect().catch(() => undefined);
  }

  /** A new generation: every partition is claimed afresh before its next batch (another member may have held it). */
  private async rebalanced(assignment: Record<string, number[]>): Promise<void> {
    this.generation += 1;
    const kept = new Set(assignment[this.options.inputTopic] ?? []);
    for (const partition of [...this.sessions.keys()]) {
      if (!kept.has(partition)) await this.dropSession(partition);
    }
  }

  private async dropAllSessions(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((partition) => this.dropSession(partition)));
  }

  /**
   * The consumer stopped on an error (a broker died, a coordinator moved, a batch failed past its
   * retries): start a fresh one after a wait, a bounded number of times in a row (RestartBudget), and
   * exit only past that bound. Every partition's producer is dropped first, so the next batch of each
   * partition claims it afresh: InitProducerId bumps the epoch, which aborts any transaction the old
   * consumer's batches left open and fences their producers, exactly as when another member takes the
   * partition. Each batch's outputs, dead letters and offset stay in one transaction throughout.
   */
  private crashed(consumer: Consumer, error: Error): void {
    if (this.stopping || consumer !== this.consumer) return;
    this.consumer = null;
    this.restarting = this.restartAfter(error);
  }

  private async restartAfter(error: Error): Promise<void> {
    let cause: unknown = error;
    for (;;) {
      const next = this.restarts.next();
      if (next === null) {
        this.logger.error(
          `group ${this.options.groupId} stopped after ${this.restarts.restartsMax} restarts in a row without a batch done: ${describe(cause)}`,
        );
        (this.options.onFatal ?? exitForRestart)(cause instanceof Error ? cause : new Error(describe(cause)));
        return;
      }
      this.logger.warn(
        `group ${this.options.groupId} consumer stopped (${describe(cause)}); starting a fresh one in ${next.waitMs} ms (restart ${next.restart} of at most ${this.restarts.restartsMax} in a row)`,
      );
      await sleep(next.waitMs);
      if (this.stopping) return;
      await this.dropAllSessions();
      this.generation += 1;
      try {
        await this.runConsumer();
        return;
      } catch (failure) {
        // Connect or subscribe failed (kafkajs reports a failed join as a crash instead, which comes back here).
        const consumer = this.consumer;
        this.consumer = null;
        await consumer?.disconnect().catch(() => undefined);
        cause = failure;
      }
    }
  }
}

/** Waits for every promise to settle, then throws the first rejection, if any. */
async function allSettledOrThrow(promises: ReadonlyArray<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((outcome) => outcome.status === 'rejected');
  if (failed?.status === 'rejected') throw failed.reason;
}

/** Bytes of records per sendBatch; below the 1 MiB default max.message.bytes, with room for batch framing. */
const SEND_BYTES_MAX = 512 * 1024;

/** Splits the messages into sends of at most about bytesMax (key, value and headers), keeping order per topic. */
function bytesBounded(topicMessages: Array<{ topic: string; messages: Message[] }>, bytesMax: number) {
  const sends: Array<Array<{ topic: string; messages: Message[] }>> = [];
  let current: Array<{ topic: string; messages: Message[] }> = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    let slice: Message[] = [];
    for (const message of messages) {
      const size = messageBytes(message);
      if (bytes + size > bytesMax && bytes > 0) {
        if (slice.length > 0) current.push({ topic, messages: slice });
        sends.push(current);
        current = [];
        slice = [];
        bytes = 0;
      }
      slice.push(message);
      bytes += size;
    }
    if (slice.length > 0) current.push({ topic, messages: slice });
  }
  if (current.length > 0) sends.push(current);
  return sends;
}

function messageBytes(message: Message): number {
  let size =
    64 +
    Buffer.byteLength(message.key ?? '') +
    (Buffer.isBuffer(message.value) ? message.value.length : Buffer.byteLength(message.value ?? ''));
  for (const [name, value] of Object.entries(message.headers ?? {}))
    size += name.length + (Buffer.isBuffer(value) ? value.length : Buffer.byteLength(String(value)));
  return size;
}

function assertOptions(options: TransactionalProcessorOptions): void {
  assertBounded('TransactionalProcessor', options, {
    batchSizeMax: [1, 100_000],
    partitionsConsumedConcurrently: [1, 64],
    attemptsMax: [1, 100],
    retryBackoffMs: [1, 60_000],
    transactionTimeoutMs: [1_000, 900_000],
    ...(options.restartsMax === undefined ? {} : { restartsMax: [1, 100] as const }),
  });
}
