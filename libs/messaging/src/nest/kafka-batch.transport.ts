import { kafkaSecurityOptions, type KafkaSecurity } from '@tributary/config';
import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import {
  createConsumer,
  createIdempotentProducer,
  createKafkaClient,
  FreshAfterFailure,
  KAFKA_RETRY_DEFAULT,
} from '@tributary/kafka-client';
import { lastValueFrom, throwError, type Observable } from 'rxjs';
import { deadLetterSink } from '../dead-letter';
import { deadLetterTopicName } from '@tributary/contracts';
import { InboundBatch, toInboundRecord, type InboundRecord } from '../inbound-batch';
import { LagCopyCommits } from '../lag-copy-commits';
import { judgeCommittedOffset, offsetDivergenceWarning } from '../offset-divergence';
import { nextOffsetAfter, partitionKey, type OffsetStore, type StoredOffset } from '../offsets';
import { onMarkerOnlyFetch, skipPastMarkers } from '../transaction-markers';
import { applyIsolatingFaults, isRecordFault, type SliceOutcome } from '../record-faults';
import {
  assertBounded,
  chunk,
  describe,
  exitForRestart,
  RestartBudget,
  retryBackoffMs,
  sleepHeartbeating,
} from '../support';

export interface KafkaBatchTransportOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** How the client authenticates (libs/config kafkaEnv); plaintext only when configured so. */
  readonly security: KafkaSecurity;
  /** Used exactly as given: Kafka's own tooling and lag monitors see this name, with no suffix added. */
  readonly groupId: string;
  /** Where a group with no committed offset starts; event topics are kept forever, so usually true. */
  readonly fromBeginning: boolean;
  /** Records handed to one handler call; each call is one database transaction in a projector. */
  readonly batchSizeMax: number;
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly partitionsConsumedConcurrently: number;
  /** A handler that throws is retried this many times in all, with doubling backoff, before the consumer stops. */
  readonly handlerAttemptsMax: number;
  readonly handlerRetryBackoffMs: number;
  /** Offsets kept beside the handler's effects (in PostgreSQL); the consumer seeks to them on assignment. */
  readonly offsetStore?: OffsetStore;
  /**
   * With an offset store, Kafka's copy of the offsets (for lag tools) is committed for all partitions at
   * once, at most this often (lag-copy-commits.ts), not after every batch. Without one, Kafka's copy is
   * the only one and is committed after every batch.
   */
  readonly lagCommitIntervalMs: number;
  /**
   * Called when the consumer moved past records no handler sees: the commit and abort markers that
   * transactional producers leave in a partition. A handler that tracks its own position per
   * partition (the attribution service's table progress) moves it here too.
   */
  readonly onPositionSkipped?: (topic: string, partition: number, nextOffset: string) => Promise<void>;
  /** Called once when the consumer gives up; a service exits so its supervisor restarts it. */
  readonly onFatal?: (error: Error) => void;
}

export const KAFKA_BATCH_TRANSPORT = Symbol('KafkaBatchTransport');

/** kafkajs's seek offset for the start of a partition's log. */
const EARLIEST_OFFSET = '-2';

/**
 * A handler failed every attempt. kafkajs reads `retriable: false` and crashes the consumer instead of
 * retrying, so the service exits and its supervisor restarts it; the offset has not moved.
 */
export class HandlerGaveUpError extends Error {
  override readonly name = 'HandlerGaveUpError';
  readonly retriable = false;
}

/** The context a handler may take as its second argument, beside the batch. */
export class KafkaBatchContext extends BaseRpcContext<[InboundBatch]> {
  get batch(): InboundBatch {
    return this.getArgByIndex(0);
  }
}

/**
 * A Nest transport strategy on kafkajs that keeps @EventPattern(topic) handlers but hands them bounded
 * batches of one partition instead of single messages. Unlike Nest's built-in Kafka transport it
 * routes poison records to a DLQ instead of blocking the partition, uses the group id verbatim, and
 * lets the handler commit offsets inside its own database transaction; it then commits the same
 * offsets to the Kafka group too, so `kafka-consumer-groups --describe` shows true lag.
 */
export class KafkaBatchTransport extends Server implements CustomTransportStrategy {
  override readonly transportId = KAFKA_BATCH_TRANSPORT;
  protected override readonly logger = new Logger(KafkaBatchTransport.name);
  private readonly kafka: Kafka;
  /** The consumer; null before listen() and after close(). */
  private consumer: Consumer | null = null;
  /** The DLQ's producer: a new one after a failed send (FreshAfterFailure). */
  private producer: FreshAfterFailure | null = null;
  /** Restarts of the kafkajs consumer after broker errors, in a row without a batch done in between. */
  private readonly restarts = new RestartBudget();
  /** This generation's partitions placed where the offset store says (see seekToStoredOffsets). */
  private positioned: Promise<void> = Promise.resolve();
  /** What this process last committed to Kafka per partition (by partitionKey): its own lag is no reset. */
  private readonly committedHere = new Map<string, string>();
  /**
   * Set by a commit that found the group's coordinator moved, until the next join: the batches still in
   * flight then skip their commits (each would spend kafkajs's retries on the same dead node) and end
   * the same way, so kafkajs's crash handler restarts the consumer as soon as they are done.
   */
  private coordinatorLost: Error | null = null;
  /** Kafka's copy of the stored offsets, committed off the batches' path; null without an offset store. */
  private lagCommits: LagCopyCommits | null = null;

  constructor(private readonly options: KafkaBatchTransportOptions) {
    super();
    assertOptions(options);
    this.kafka = createKafkaClient({
      clientId: options.clientId,
      brokers: options.brokers,
      ...kafkaSecurityOptions(options.security),
    });
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    const { consumer, producer, lagCommits } = this;
    this.consumer = null;
    this.producer = null;
    // While still a member: a batch in flight flushes what it adds itself (consumeBatch).
    await lagCommits?.flush();
    await consumer?.disconnect();
    await producer?.disconnect();
  }

  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- the signature of Nest's Server.on, which this overrides
  on(event: string, callback: Function): void {
    if (!this.consumer) throw new Error('the consumer exists only once listen() ran');
    this.consumer.on(event as never, callback as never);
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  private async start(): Promise<void> {
    const topics = [...this.messageHandlers.keys()];
    if (topics.length === 0) throw new Error(`consumer group ${this.options.groupId} has no @EventPattern handler`);
    this.producer = new FreshAfterFailure(() => createIdempotentProducer(this.kafka));
    await this.producer.ready();
    await this.startConsumer(topics);
    this.logger.log(`group ${this.options.groupId} consuming ${topics.join(', ')}`);
  }

  /**
   * The kafkajs consumer, joined and running. What it reports is heeded only while it is the transport's
   * (not after close()): a consumer being closed neither moves positions nor restarts nor stops the service.
   */
  private async startConsumer(topics: readonly string[]): Promise<void> {
    const current = () => this.consumer === consumer;
    const consumer = this.createConsumer(current);
    this.consumer = consumer;
    const lagCommits = this.options.offsetStore
      ? new LagCopyCommits(
          (offsets) => consumer.commitOffsets(offsets),
          this.options.lagCommitIntervalMs,
          (error, offsets) => this.commitFailed(error, offsets),
        )
      : null;
    this.lagCommits = lagCommits;
    // kafkajs has stopped fetching and is about to join again: what is noted goes while this
    // generation can still commit it, so the partitions' next owners find Kafka's copy up to date.
    consumer.on(consumer.events.REBALANCING, () => void lagCommits?.flush());
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (!current()) return;
      lagCommits?.retain(event.payload.memberAssignment);
      this.coordinatorLost = null;
      this.positioned = this.seekToStoredOffsets(consumer, event.payload.memberAssignment);
      // Said here; the batches that await it fail with it, and kafkajs retries them.
      this.positioned.catch((error: unknown) =>
        this.logger.warn(`could not read the stored offsets of group ${this.options.groupId}: ${describe(error)}`),
      );
    });
    consumer.on(consumer.events.COMMIT_OFFSETS, (event) => {
      for (const { topic, partitions } of event.payload.topics) {
        for (const { partition, offset } of partitions)
          this.committedHere.set(partitionKey(topic, partition), String(offset));
      }
    });
    onMarkerOnlyFetch(consumer, (topic, partition, nextOffset) => {
      if (current()) void this.skipPast(topic, partition, nextOffset.toString());
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart && current()) this.crashed(event.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: this.options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => (current() ? this.consumeBatch(payload) : Promise.resolve()),
    });
  }

  /** `isCurrent` says whether this consumer is still the transport's: a closed one is never restarted. */
  private createConsumer(isCurrent: () => boolean): Consumer {
    const { options } = this;
    return createConsumer(this.kafka, {
      groupId: options.groupId,
      sessionTimeoutMs: options.sessionTimeoutMs,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxBytes: options.maxBytes,
      retry: KAFKA_RETRY_DEFAULT,
      // Broker errors past the retries (a dead broker, a coordinator that moved) make kafkajs start a
      // fresh consumer group membership after its retry wait, a bounded number of times in a row
      // (RestartBudget, shared with the transactional processor). A handler that gave up is not retried
      // here at all (HandlerGaveUpError is not retriable): the service stops instead of looping.
      restartOnFailure: async (error) => {
        if (!isCurrent()) return false;
        const next = this.restarts.next();
        this.logger.warn(
          next === null
            ? `consumer group ${options.groupId} stopped after ${this.restarts.restartsMax} restarts in a row without a batch done: ${describe(error)}`
            : `consumer group ${options.groupId} consumer stopped (${describe(error)}); kafkajs restarts it (restart ${next.restart} of at most ${this.restarts.restartsMax} in a row)`,
        );
        return next !== null;
      },
    });
  }

  private async consumeBatch(payload: EachBatchPayload): Promise<void> {
    await this.consumeSlices(payload);
    // The consumer is stopping (close(), or kafkajs restarting it): it leaves the group once this batch
    // is done, so what the batch noted for Kafka's copy goes now, while this member can still commit it.
    if (!payload.isRunning()) await this.lagCommits?.flush();
  }

  private async consumeSlices(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const handler = this.getHandlerByPattern(batch.topic);
    if (!handler) throw new Error(`no handler for topic ${batch.topic}`);
    // Nothing of this generation is handled before its partitions are where the offset store says (a
    // batch fetched from elsewhere is stale then, and kafkajs fetches again from the new position).
    await this.positioned;
    // A fetch that ends in a transaction's commit marker (transaction-markers.ts): the transaction of
    // its last record stores the position past the marker too, so the handler's own commit is the only
    // write, and a reader of that position (the decider waiting for the table fold) sees the partition's
    // end at once.
    const pastMarkers = skipPastMarkers(batch);
    const lastRecordOffset = batch.messages[batch.messages.length - 1]?.offset;
    const endOf = (records: readonly InboundRecord[]) =>
      pastMarkers !== null && records[records.length - 1]?.offset === lastRecordOffset ? pastMarkers : undefined;
    for (const messages of chunk(batch.messages, this.options.batchSizeMax)) {
      if (!isRunning() || isStale()) return;
      const records = messages.map((message) => toInboundRecord(batch.topic, batch.partition, message));
      const done = await applyIsolatingFaults(
        records,
        (slice) =>
          !isRunning() || isStale()
            ? Promise.resolve({ kind: 'stopped' as const })
            : this.handleWithRetries(handler, batch.topic, batch.partition, slice, heartbeat, endOf(slice)),
        (record, error) => this.deadLetterAlone(record, error, endOf([record])),
      );
      if (!done) return;
      const end = endOf(records);
      resolveOffset(end === undefined ? messages[messages.length - 1]!.offset : batch.lastOffset());
      this.restarts.progressed();
      const nextOffset = end ?? nextOffsetAfter(messages[messages.length - 1]!.offset);
      const moved =
        this.coordinatorLost ?? (await this.commitToGroup(batch.topic, batch.partition, nextOffset.toString()));
      // The rest of the fetch is read again by the fresh membership, from the offset store.
      if (moved) throw new CoordinatorMovedError(moved);
      await heartbeat();
    }
  }

  /**
   * One slice of records through the handler, retrying failures of the infrastructure with backoff.
   * A failure the records caused (record-faults.ts) is not retried: the caller splits the slice to find
   * the record. A single record gets one more try first, since a unique violation can be a race with
   * another member that a fresh transaction sees through.
   */
  private async handleWithRetries(
    handler: MessageHandler,
    topic: string,
    partition: number,
    records: readonly InboundRecord[],
    heartbeat: () => Promise<void>,
    endOffset: bigint | undefined,
  ): Promise<SliceOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      const inbound = new InboundBatch(
        this.options.groupId,
        topic,
        partition,
        records,
        this.rejectionSink(),
        endOffset,
      );
      try {
        const result = await handler(inbound, new KafkaBatchContext([inbound]));
        await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
        await inbound.flushRejections();
        return { kind: 'done' };
      } catch (error) {
        if (isNestMaskedError(error))
          this.logger.warn(
            `the handler for ${topic} lost its error to Nest's exception handling: give its controller @UseFilters(HandlerErrorsAsThrown)`,
          );
        if (isRecordFault(error) && (records.length > 1 || attempt >= 2)) {
          if (records.length > 1)
            this.logger.warn(
              `handler for ${topic}[${partition}] failed on records ${records[0]!.offset}..${records[records.length - 1]!.offset} (a fault of a record: looking for it): ${describe(error)}`,
            );
          return { kind: 'fault', error };
        }
        if (attempt >= this.options.handlerAttemptsMax) {
          throw new HandlerGaveUpError(
            `handler for ${topic}[${partition}] failed ${attempt} times at offset ${records[0]!.offset}: ${describe(error)}`,
          );
        }
        const backoffMs = retryBackoffMs(this.options.handlerRetryBackoffMs, attempt, this.options.sessionTimeoutMs);
        this.logger.warn(
          `handler for ${topic}[${partition}] failed (attempt ${attempt}), retrying in ${backoffMs} ms: ${describe(error)}`,
        );
        await sleepHeartbeating(backoffMs, this.options.heartbeatIntervalMs, heartbeat);
      }
    }
  }

  /**
   * A record the handler fails on alone, for a reason of its own: it goes to the DLQ with that reason
   * and the stored position moves past it, so the partition goes on.
   */
  private async deadLetterAlone(record: InboundRecord, error: unknown, endOffset: bigint | undefined): Promise<void> {
    const inbound = new InboundBatch(
      this.options.groupId,
      record.topic,
      record.partition,
      [record],
      this.rejectionSink(),
      endOffset,
    );
    const reason = `${describe(error)} (the handler failed on this record alone)`;
    inbound.reject(record, reason, error);
    await inbound.flushRejections();
    this.logger.warn(
      `${record.topic}[${record.partition}]@${record.offset} sent to ${deadLetterTopicName(this.options.groupId)}: ${reason}`,
    );
    await this.options.offsetStore?.advance(this.options.groupId, record.topic, record.partition, inbound.nextOffset);
    await this.options.onPositionSkipped?.(record.topic, record.partition, inbound.nextOffset);
  }

  private rejectionSink() {
    if (!this.producer) throw new Error('the DLQ producer exists only once listen() ran');
    const producers = this.producer;
    return deadLetterSink({ send: (record) => producers.use((producer) => producer.send(record)) });
  }

  /**
   * A fetch that held only transaction markers: nothing to apply, but the stored position must move past
   * them, or a consumer that is caught up would look one record behind forever (in Kafka's lag tools,
   * and to anyone comparing its position with the partition's end).
   */
  private async skipPast(topic: string, partition: number, nextOffset: string): Promise<void> {
    try {
      await this.options.offsetStore?.advance(this.options.groupId, topic, partition, nextOffset);
      await this.options.onPositionSkipped?.(topic, partition, nextOffset);
      await this.commitToGroup(topic, partition, nextOffset);
    } catch (error) {
      // Not fatal: the next batch of the partition moves the position past the markers anyway.
      this.logger.warn(
        `could not move ${topic}[${partition}] past its transaction markers to ${nextOffset}: ${describe(error)}`,
      );
    }
  }

  /**
   * Kafka's copy of the offsets is for lag tools; the handler's database holds the authoritative one, so
   * it is noted for the next coalesced commit (lag-copy-commits.ts), and a failed commit is only said.
   * Without an offset store Kafka's copy is the only one and is committed here, before the next batch.
   * Returns the error when a commit found the group's coordinator moved.
   */
  private async commitToGroup(topic: string, partition: number, offset: string): Promise<Error | null> {
    if (this.coordinatorLost) return this.coordinatorLost;
    if (this.lagCommits) {
      this.lagCommits.note({ topic, partition, offset });
      return null;
    }
    try {
      await this.consumer?.commitOffsets([{ topic, partition, offset }]);
      return null;
    } catch (error) {
      return this.commitFailed(error, [{ topic, partition, offset }]);
    }
  }

  /** Says a failed commit; one that found the coordinator moved makes the batches end and the consumer rejoin. */
  private commitFailed(error: unknown, offsets: readonly StoredOffset[]): Error | null {
    const moved = coordinatorMoved(error);
    this.coordinatorLost ??= moved;
    const what = offsets.map(({ topic, partition, offset }) => `${topic}[${partition}]@${offset}`).join(', ');
    this.logger.warn(
      moved
        ? `could not commit ${what} to the group: its coordinator moved (${describe(error)}); rejoining to find it`
        : `could not commit ${what} to the group (a rebalance?): ${describe(error)}`,
    );
    return moved;
  }

  /**
   * Puts every assigned partition where the offset store says: its stored offset, or, with none stored,
   * the start of the log (for a `fromBeginning` group). The store is authoritative and Kafka's copy is
   * for lag tools: when the database was reset (restored, recreated) but the broker kept the group's
   * offsets, starting from Kafka's copy would leave everything before it out of the rebuilt state.
   * A store that cannot be read fails the batches of this generation, which kafkajs retries and, past
   * its bound, restarts the consumer (rejoining, so reading the store again).
   */
  private async seekToStoredOffsets(consumer: Consumer, assignment: Record<string, number[]>): Promise<void> {
    if (!this.options.offsetStore) return;
    const stored = await this.options.offsetStore.load(this.options.groupId, Object.keys(assignment));
    const storedPartitions = new Set<string>();
    for (const { topic, partition, offset } of stored) {
      if (!assignment[topic]?.includes(partition)) continue;
      storedPartitions.add(partitionKey(topic, partition));
      consumer.seek({ topic, partition, offset });
    }
    if (this.options.fromBeginning) {
      for (const [topic, partitions] of Object.entries(assignment)) {
        for (const partition of partitions) {
          if (!storedPartitions.has(partitionKey(topic, partition)))
            consumer.seek({ topic, partition, offset: EARLIEST_OFFSET });
        }
      }
    }
    await this.refuseForeignCommittedOffsets(consumer, assignment, stored);
  }

  /**
   * Kafka's committed offsets of the assigned partitions, judged against the database's
   * (offset-divergence.ts): a copy moved by anyone but this process (`kafka-consumer-groups
   * --reset-offsets` while the members were stopped) is refused with one warn line per partition and set
   * back to the database's offset, never ignored in silence. Not being able to read Kafka's copy is said
   * and does not stop the consumer: the database's offsets are used either way.
   */
  private async refuseForeignCommittedOffsets(
    consumer: Consumer,
    assignment: Record<string, number[]>,
    stored: readonly StoredOffset[],
  ): Promise<void> {
    const { groupId } = this.options;
    const database = new Map(stored.map(({ topic, partition, offset }) => [partitionKey(topic, partition), offset]));
    const admin = this.kafka.admin();
    let committed: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
    try {
      await admin.connect();
      committed = await admin.fetchOffsets({ groupId, topics: Object.keys(assignment) });
    } catch (error) {
      this.logger.warn(
        `could not read Kafka's committed offsets of group ${groupId} to compare them with the database's: ${describe(error)}`,
      );
      return;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const restore: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const { topic, partitions } of committed) {
      for (const { partition, offset } of partitions) {
        if (!assignment[topic]?.includes(partition)) continue;
        const key = partitionKey(topic, partition);
        const databaseOffset = database.get(key) ?? null;
        // A group that does not start from the beginning takes Kafka's copy where the database has none.
        if (databaseOffset === null && !this.options.fromBeginning) continue;
        const kafkaOffset = offset === '' || BigInt(offset) < 0n ? null : offset;
        const judgement = judgeCommittedOffset({
          database: databaseOffset,
          kafka: kafkaOffset,
          lastCommittedHere: this.committedHere.get(key) ?? null,
        });
        if (judgement.verdict !== 'refuse') continue;
        this.logger.warn(offsetDivergenceWarning(groupId, topic, partition, judgement));
        if (databaseOffset !== null) restore.push({ topic, partition, offset: databaseOffset });
      }
    }
    if (restore.length === 0) return;
    try {
      await consumer.commitOffsets(restore);
    } catch (error) {
      this.logger.warn(
        `could not set Kafka's committed offsets of group ${groupId} back to the database's: ${describe(error)}`,
      );
    }
  }

  private crashed(error: Error): void {
    this.logger.error(`consumer group ${this.options.groupId} stopped: ${describe(error)}`);
    (this.options.onFatal ?? exitForRestart)(error);
  }
}

/**
 * kafkajs keeps the group's coordinator it found at the join and, when that broker dies, looks up the same
 * node again instead of asking who coordinates now: every later commit fails after its retries ("Broker 2
 * not found", then "not the correct coordinator" once the node is back), and each batch waits them out.
 * A fresh membership asks anew. Thrown from the batch that saw it (after its records were applied and
 * their offsets stored), this error takes kafkajs's own crash path: its retrier gives up at once (not
 * retriable), and its crash handler, finding a retriable cause, disconnects and restarts the consumer with
 * a new group membership, under the restart budget (restartOnFailure). One consumer, restarted only by
 * kafkajs: a restart of ours beside one of its own would run two members in one process.
 */
export class CoordinatorMovedError extends Error {
  override readonly name = 'CoordinatorMovedError';
  readonly retriable = false;

  constructor(moved: Error) {
    super(`the group's coordinator moved (${describe(moved)}): joining afresh`, {
      cause: Object.assign(new Error(describe(moved)), { retriable: true }),
    });
  }
}

/**
 * The error (itself or what it wraps) saying the broker asked is not the group's coordinator any more,
 * or that the coordinator kafkajs kept is gone from the cluster's metadata.
 */
function coordinatorMoved(error: unknown): Error | null {
  for (let cause = error; cause instanceof Error;) {
    const { type, originalError } = cause as Error & { type?: unknown; originalError?: unknown };
    if (type === 'NOT_COORDINATOR_FOR_GROUP' || cause.name === 'KafkaJSBrokerNotFound') return cause;
    cause = originalError ?? cause.cause;
  }
  return null;
}

function assertOptions(options: KafkaBatchTransportOptions): void {
  assertBounded('KafkaBatchTransport', options, {
    batchSizeMax: [1, 100_000],
    partitionsConsumedConcurrently: [1, 64],
    handlerAttemptsMax: [1, 100],
    handlerRetryBackoffMs: [1, 60_000],
    lagCommitIntervalMs: [0, 60_000],
  });
  if (options.groupId.trim() !== options.groupId || options.groupId === '')
    throw new RangeError('groupId must be a non-empty name');
}

/**
 * Nest's default RPC exception handling replaces whatever a handler throws with "Internal server
 * error", so the transport could tell neither what failed nor whose fault it was (a SQLSTATE lost on
 * the way). A controller of @EventPattern handlers on this transport takes `@UseFilters(HandlerErrorsAsThrown)`,
 * which hands the transport the error as thrown.
 */
/** What Nest's default exception handling leaves of an error: `{ status: 'error', message: 'Internal server error' }`. */
function isNestMaskedError(error: unknown): boolean {
  return (
    !(error instanceof Error) &&
    typeof error === 'object' &&
    error !== null &&
    (error as { status?: unknown }).status === 'error'
  );
}

@Catch()
export class HandlerErrorsAsThrown implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
