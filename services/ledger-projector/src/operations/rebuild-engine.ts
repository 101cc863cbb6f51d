import { kafkaEnv, kafkaSecurityOptions } from '@tributary/config';
import { type Batch, type Consumer, type Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { createConsumer, createKafkaClient, KAFKA_RETRY_DEFAULT } from '@tributary/kafka-client';
import { DataSource } from 'typeorm';
import { deadLetterTopicName } from '@tributary/contracts';
import {
  applyIsolatingFaults,
  chunk,
  describeError,
  DLQ_HEADERS,
  InboundBatch,
  isRecordFault,
  nextOffsetAfter,
  onMarkerOnlyFetch,
  readDeadLetterTopic,
  toInboundRecord,
  type InboundRecord,
  type RejectionSink,
  type SliceOutcome,
} from '@tributary/messaging';
import { ensureSchema, PostgresOffsetStore } from '@tributary/persistence';
import { dataSourceOptions, LEDGER_SCHEMA } from '../database/data-source-options';
import { projectBatch, type ProjectionObserver } from '../projection/ledger-writer';
import { assertSchemaName, parsePositionKey, positionKey, readStoredOffsets } from './ledger-queries';
import { partitionProgress, slowestPartition, type PartitionProgress, type RebuildProgress } from './rebuild-progress';

export interface RebuildOptions {
  readonly databaseUrl: string;
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** The live projector's group: the rebuilt schema stores its offsets under this name, so after a swap the live projector resumes from them. */
  readonly groupId: string;
  /**
   * Applied one topic at a time, in this order: payouts only once the attributions up to the target
   * are in (see README); funding last (its totals are sums, so its place changes nothing). The CLI
   * always names the funding topic; a caller that leaves it out rebuilds without deposits and chargebacks
   * (producer_funding then differs from live as soon as the treasury has recorded any).
   */
  readonly topics: readonly [attributions: string, payouts: string, funding?: string];
  readonly schema: string;
  readonly batchSizeMax: number;
  readonly partitionsConcurrently: number;
  readonly onProgress?: (appliedRecords: number, totalRecords: number) => void;
  /** Bytes fetched per partition and request (default 8 MiB); tests lower it so a partition takes many fetches. */
  readonly fetchBytesPerPartitionMax?: number;
  /** `live` (default): up to where the live projection stands, to compare digests; `end`: the whole log as it is now. */
  readonly to?: 'live' | 'end';
  /**
   * Processes that apply records (default 1: this one). With more, each is a child process owning the
   * partitions whose number modulo `workers` is its index, so decoding, chaining and encoding use every
   * core; `partitionsConcurrently` is shared out between them. See rebuild-workers.ts.
   */
  readonly workers?: number;
  /**
   * How long a run may go without moving any partition it still has to apply before it stops, naming
   * the partitions behind with their offsets (default 120 s): a batch waiting on a lock or on a
   * database that does not answer, a partition the broker does not serve. See README, Rebuild.
   */
  readonly stallTimeoutMs?: number;
  /** `rebuild` only: where progress lines go (the CLI's stderr on a non-terminal); none when unset. */
  readonly progressLine?: (line: string) => void;
  /** `rebuild` only: the interval of progress lines (default 10 s). */
  readonly progressIntervalMs?: number;
}

/** The topics a rebuild reads, in the order it applies them (the funding topic when named). */
export const rebuildTopics = (options: Pick<RebuildOptions, 'topics'>): readonly string[] =>
  options.topics.filter((topic): topic is string => topic !== undefined);

export const STALL_TIMEOUT_MS_DEFAULT = 120_000;
export const PROGRESS_INTERVAL_MS_DEFAULT = 10_000;

/** A rebuild engine's part of the work when it is one of several worker processes. */
export interface RebuildWorkerShare {
  readonly index: number;
  readonly count: number;
}

/** What rebuild and swap drive: one engine in this process, or a pool of worker processes. */
export interface RebuildRunner {
  open(): Promise<void>;
  readonly source: DataSource;
  endOffsets(): Promise<Map<string, bigint>>;
  remaining(targets: ReadonlyMap<string, bigint>): number;
  runTo(targets: ReadonlyMap<string, bigint>): Promise<void>;
  createDeferredIndexes(): Promise<void>;
  readonly recordsApplied: number;
  readonly recordsRejected: number;
  /** Records applied and refused, and every partition of the current run against its target. */
  progress(): RebuildProgress;
  close(): Promise<void>;
}

/**
 * Indexes a rebuild does without while it projects and builds once at the end (a sorted build of
 * millions of rows is several times cheaper than maintaining the b-tree row by row): the secondary
 * indexes, and the primary keys of the two append-only tables. The projection never reads any of them
 * (it looks up inferences, applied events, accounts and checkpoints by their keys, and those keep
 * theirs); readers (audit, ledger-api, verify) need them, so `rebuild` and `swap` create them before
 * the digest is read and before the schema can become `ledger`. Building a primary key also proves its
 * uniqueness over the whole table: a chain that repeated a sequence number would fail the rebuild there.
 * Same names and columns as the migration's.
 */
export const DEFERRED_INDEXES = [
  {
    name: 'ledger_entries_pkey',
    table: 'ledger_entries',
    columns: '(source_topic, source_partition, chain_seq)',
    primaryKey: true,
  },
  {
    name: 'contribution_credits_pkey',
    table: 'contribution_credits',
    columns: '(inference_id, account, contribution_id)',
    primaryKey: true,
  },
  { name: 'ledger_entries_account_idx', table: 'ledger_entries', columns: '(account, asset)', primaryKey: false },
  {
    name: 'contribution_credits_contribution_idx',
    table: 'contribution_credits',
    columns: '(contribution_id)',
    primaryKey: false,
  },
] as const;

type Queryable = { query(text: string, parameters?: unknown[]): Promise<unknown> };

/** Drops the deferred indexes of a schema (a fresh rebuild's, or the benchmark's ceiling). */
export async function dropDeferredIndexes(sql: Queryable, schema: string): Promise<void> {
  assertSchemaName(schema);
  for (const index of DEFERRED_INDEXES) {
    await sql.query(
      index.primaryKey
        ? `ALTER TABLE ${schema}.${index.table} DROP CONSTRAINT IF EXISTS ${index.name}`
        : `DROP INDEX IF EXISTS ${schema}.${index.name}`,
    );
  }
}

/** Builds whichever deferred indexes a schema lacks (a no-op when all are there). */
export async function createDeferredIndexes(sql: Queryable, schema: string): Promise<void> {
  assertSchemaName(schema);
  for (const index of DEFERRED_INDEXES) {
    if (!index.primaryKey) {
      await sql.query(`CREATE INDEX IF NOT EXISTS ${index.name} ON ${schema}.${index.table} ${index.columns}`);
      continue;
    }
    const exists = (await sql.query(
      'SELECT 1 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 AND c.conname = $2',
      [schema, index.name],
    )) as unknown[] | { rows: unknown[] };
    if ((Array.isArray(exists) ? exists : exists.rows).length === 0)
      await sql.query(`ALTER TABLE ${schema}.${index.table} ADD CONSTRAINT ${index.name} PRIMARY KEY ${index.columns}`);
  }
}

/**
 * Creates (or reopens) a rebuild schema and runs the migrations into it. `prepare`: a fresh schema
 * (nothing applied yet) loses its deferred indexes, which createDeferredIndexes builds at the end; a
 * schema that already holds records keeps whatever it has (a swap of a finished rebuild). `prepared`:
 * a worker process opening a schema its pool prepared. Returns the data source and the stored offsets.
 */
export async function openRebuildSchema(
  options: RebuildOptions,
  mode: 'prepare' | 'prepared',
  poolSizeMax: number,
): Promise<{ dataSource: DataSource; stored: Map<string, bigint> }> {
  await ensureSchema(options.databaseUrl, options.schema);
  const dataSource = await new DataSource(
    dataSourceOptions(options.databaseUrl, poolSizeMax, options.schema),
  ).initialize();
  try {
    const stored = await readStoredOffsets(dataSource, options.schema, options.groupId);
    if (stored.size === 0 && mode === 'prepare') await dropDeferredIndexes(dataSource, options.schema);
    return { dataSource, stored };
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

/** The high watermark of every partition of `topics`, as "topic/partition" → offset. */
export async function topicEndOffsets(kafka: Kafka, topics: readonly string[]): Promise<Map<string, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = new Map<string, bigint>();
    for (const topic of topics)
      for (const { partition, high } of await admin.fetchTopicOffsets(topic))
        ends.set(positionKey(topic, partition), BigInt(high));
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The targets no consumer can reach, one line each naming topic, partition and offset: past the end
 * of their partition (offsets stored by another log, or a topic recreated since), or in a partition
 * the topic does not have. Checked before a run, which would otherwise wait for them forever.
 */
export function unreachableTargets(targets: ReadonlyMap<string, bigint>, ends: ReadonlyMap<string, bigint>): string[] {
  const problems: string[] = [];
  for (const [partitionKey, target] of targets) {
    if (target <= 0n) continue;
    const { topic, partition } = parsePositionKey(partitionKey);
    const end = ends.get(partitionKey);
    if (end === undefined)
      problems.push(`${topic}[${partition}]: target offset ${target} is in a partition the broker does not have`);
    else if (target > end)
      problems.push(`${topic}[${partition}]: target offset ${target} is past the end of the partition (offset ${end})`);
  }
  return problems;
}

/** Throws naming every target that cannot be reached (see unreachableTargets). */
export function assertReachable(targets: ReadonlyMap<string, bigint>, ends: ReadonlyMap<string, bigint>): void {
  const problems = unreachableTargets(targets, ends);
  if (problems.length > 0) throw new Error(`rebuild cannot reach its targets: ${problems.join('; ')}`);
}

/** Records between `positions` and `targets` (a partition without a position stands at 0). */
export function recordsBetween(positions: ReadonlyMap<string, bigint>, targets: ReadonlyMap<string, bigint>): number {
  let total = 0n;
  for (const [partitionKey, target] of targets) {
    const position = positions.get(partitionKey) ?? 0n;
    if (target > position) total += target - position;
  }
  return Number(total);
}

/**
 * Consumes the log into a schema of its own, up to per-partition target offsets, with the same
 * projectBatch the live projector uses. It reads with a throwaway consumer group and never commits
 * to Kafka or writes a DLQ (the live projector already dead-lettered what it refused; the engine
 * only counts refusals), so the live projection is untouched while it runs. A record that fails the
 * batch it is in for a reason of its own (a value PostgreSQL refuses) is found and refused alone, as
 * the live transport does, and counted with the refusals. A run never waits in silence: a partition
 * that cannot move stops it within `stallTimeoutMs`, naming topic, partition and offset.
 */
export class RebuildEngine implements RebuildRunner {
  private readonly kafka: Kafka;
  private consumer: Consumer | null = null;
  private dataSource: DataSource | null = null;
  private offsetStore: PostgresOffsetStore | null = null;
  private readonly positions = new Map<string, bigint>();
  /** The phase's targets: one topic's owned partitions. */
  private targets = new Map<string, bigint>();
  /** The run's targets: every owned partition of every topic, for progress. */
  private runTargets = new Map<string, bigint>();
  private waiter: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  /** Stored offsets moved past markers from kafkajs's events, which cannot wait for them. */
  private readonly pendingWrites = new Set<Promise<void>>();
  /** When a position last moved (or a phase began): the stall watchdog's clock. */
  private movedMs = Date.now();
  private readonly stallTimeoutMs: number;
  private readonly topics: readonly string[];
  recordsApplied = 0;
  recordsRejected = 0;
  /** What the live projector dead-lettered, by source position, with its reason (see refusedLive). */
  private refusedLive: ReadonlyMap<string, string> = new Map();

  /** `share`: this engine is one of several worker processes and applies only the partitions it owns. */
  constructor(
    private readonly options: RebuildOptions,
    private readonly share: RebuildWorkerShare = { index: 0, count: 1 },
  ) {
    assertSchemaName(options.schema);
    if (options.schema === LEDGER_SCHEMA)
      throw new RangeError(`--schema: must not be the live schema "${LEDGER_SCHEMA}"`);
    this.topics = rebuildTopics(options);
    if (
      !Number.isInteger(share.count) ||
      share.count < 1 ||
      !Number.isInteger(share.index) ||
      share.index < 0 ||
      share.index >= share.count
    )
      throw new RangeError(`rebuild worker ${share.index} of ${share.count}: not a valid share`);
    this.stallTimeoutMs = options.stallTimeoutMs ?? STALL_TIMEOUT_MS_DEFAULT;
    if (!Number.isInteger(this.stallTimeoutMs) || this.stallTimeoutMs < 1)
      throw new RangeError(`stall timeout ${options.stallTimeoutMs} ms: must be a positive integer`);
    this.kafka = createKafkaClient({
      clientId: `${options.clientId}-rebuild`,
      brokers: options.brokers,
      ...kafkaSecurityOptions(kafkaEnv().kafkaSecurity),
      logLevel: logLevel.NOTHING,
    });
  }

  /**
   * Opens the schema (a single engine prepares it first; worker processes find it prepared by the pool
   * that started them) and starts the consumer, paused.
   */
  async open(): Promise<void> {
    this.refusedLive = await refusedLive(this.kafka, this.options.groupId, `${this.rebuildGroupId}.dlq`);
    const { dataSource, stored } = await openRebuildSchema(
      this.options,
      this.share.count === 1 ? 'prepare' : 'prepared',
      this.options.partitionsConcurrently + 2,
    );
    this.dataSource = dataSource;
    this.offsetStore = new PostgresOffsetStore(dataSource);
    for (const partitionKey of (await topicEndOffsets(this.kafka, this.topics)).keys()) {
      if (this.owns(parsePositionKey(partitionKey).partition))
        this.positions.set(partitionKey, stored.get(partitionKey) ?? 0n);
    }
    // One fetch serves every partition being applied at once: with kafkajs's default cap of 10 MiB per
    // fetch, one or two partitions filled it, the others waited for the next fetch, and the next fetch
    // waited for every batch of this one (partitions at once stayed one or two, Node sat idle between).
    const bytesPerPartition = this.options.fetchBytesPerPartitionMax ?? 8 * 1024 * 1024;
    // A shorter wait than live's: a rebuild has the whole log in front of it and no reason to hold a fetch.
    this.consumer = createConsumer(this.kafka, {
      groupId: this.rebuildGroupId,
      maxBytesPerPartition: bytesPerPartition,
      maxBytes: bytesPerPartition * Math.max(2, this.options.partitionsConcurrently * 2),
      maxWaitTimeMs: 250,
      retry: { ...KAFKA_RETRY_DEFAULT, retries: 5 },
    });
    // A fetch of transaction markers (or aborted records) alone reaches no handler; the position still moves past them, as live.
    onMarkerOnlyFetch(this.consumer, (topic, partition, nextOffset) => this.passSkipped(topic, partition, nextOffset));
    // The consumer gave up (its retries spent): nothing will move any more, so the run fails now.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(new Error(`the rebuild consumer stopped: ${payload.error.message}`));
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.topics], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently,
      eachBatch: (payload) =>
        this.consumeBatch(
          payload.batch.topic,
          payload.batch.partition,
          payload.batch.messages,
          payload.heartbeat,
          payload.resolveOffset,
          fetchedOffsetOf(payload.batch),
          payload.batch.lastOffset(),
        ),
    });
    // Paused until runTo names targets; a batch fetched before this finds no target and pauses itself.
    this.consumer.pause(this.topics.map((topic) => ({ topic })));
  }

  /** A throwaway group per engine: each worker process subscribes to every partition and resumes only its own. */
  private get rebuildGroupId(): string {
    return `${this.options.groupId}.rebuild.${this.options.schema}${this.share.count > 1 ? `.w${this.share.index}` : ''}`;
  }

  private owns(partition: number): boolean {
    return partition % this.share.count === this.share.index;
  }

  /** Where each owned partition stands: the stored offsets at open, then moved by every batch and marker. */
  get currentPositions(): ReadonlyMap<string, bigint> {
    return this.positions;
  }

  progress(): RebuildProgress {
    return {
      applied: this.recordsApplied,
      rejected: this.recordsRejected,
      partitions: partitionProgress(this.positions, this.runTargets),
    };
  }

  /** Builds the indexes dropped at open (no-op when they exist): before reading a digest, and before a swap. */
  async createDeferredIndexes(): Promise<void> {
    await createDeferredIndexes(this.source, this.options.schema);
  }

  get source(): DataSource {
    if (!this.dataSource) throw new Error('the rebuild engine is not open');
    return this.dataSource;
  }

  /** The high watermark of every partition: the whole log as it stands. */
  endOffsets(): Promise<Map<string, bigint>> {
    return topicEndOffsets(this.kafka, this.topics);
  }

  /** Records between the current positions and `targets`. */
  remaining(targets: ReadonlyMap<string, bigint>): number {
    return recordsBetween(this.positions, targets);
  }

  /**
   * Applies every record below the targets (of the partitions it owns): the attribution partitions
   * first, then the payout ones, then the funding ones. Fails, naming the partitions behind, once no partition moved for the
   * stall timeout.
   */
  async runTo(targets: ReadonlyMap<string, bigint>): Promise<void> {
    const owned = (partitionKey: string) => this.owns(parsePositionKey(partitionKey).partition);
    this.runTargets = new Map([...targets].filter(([partitionKey]) => owned(partitionKey)));
    for (const topic of this.topics) {
      this.targets = new Map(
        [...this.runTargets].filter(([partitionKey]) => parsePositionKey(partitionKey).topic === topic),
      );
      this.movedMs = Date.now();
      const watchdog = setInterval(
        () => this.checkStalled(),
        Math.max(10, Math.min(1_000, Math.floor(this.stallTimeoutMs / 4))),
      );
      try {
        await new Promise<void>((resolve, reject) => {
          this.waiter = { resolve, reject };
          this.resumeBehind(topic);
        });
        await Promise.all(this.pendingWrites);
        if (this.failure) throw this.failure;
      } finally {
        clearInterval(watchdog);
        this.waiter = null;
      }
    }
  }

  private resumeBehind(topic: string): void {
    if (this.failure) return this.waiter?.reject(this.failure);
    const behind = [...this.targets]
      .filter(([partitionKey, target]) => (this.positions.get(partitionKey) ?? 0n) < target)
      .map(([partitionKey]) => parsePositionKey(partitionKey).partition);
    if (behind.length === 0) return this.waiter?.resolve();
    for (const partition of behind)
      this.consumer!.seek({
        topic,
        partition,
        offset: (this.positions.get(positionKey(topic, partition)) ?? 0n).toString(),
      });
    this.consumer!.resume([{ topic, partitions: behind }]);
  }

  /** No partition of the phase moved for the stall timeout while some are behind: fail, naming them. */
  private checkStalled(): void {
    if (this.waiter === null || this.failure !== null) return;
    const stalledMs = Date.now() - this.movedMs;
    if (stalledMs < this.stallTimeoutMs) return;
    const behind = partitionProgress(this.positions, this.targets).filter(
      (partition) => partition.position < partition.target,
    );
    if (behind.length === 0) return;
    this.fail(
      new Error(
        `rebuild stalled: no partition moved for ${Math.round(stalledMs / 1000)} s; ${describeBehind(behind)} (a batch waiting on a lock or on a database that does not answer, or a partition the broker does not serve)`,
      ),
    );
  }

  /** Moves a partition's position forward (never backwards, never past its target) and notes that something moved. */
  private moveTo(partitionKey: string, offset: bigint): void {
    if (offset <= (this.positions.get(partitionKey) ?? 0n)) return;
    this.positions.set(partitionKey, offset);
    this.movedMs = Date.now();
  }

  /**
   * Offsets no handler sees: the commit and abort markers transactional producers (the attribution
   * service) leave, and the records of aborted transactions. The live projector's stored offsets count
   * them as read, so the rebuild must too, or it would never reach the live position. Never past the
   * target, never backwards.
   */
  private passSkipped(topic: string, partition: number, nextOffset: bigint): void {
    const partitionKey = positionKey(topic, partition);
    const target = this.targets.get(partitionKey);
    if (target === undefined) return;
    const moved = nextOffset < target ? nextOffset : target;
    if (moved <= (this.positions.get(partitionKey) ?? 0n)) return;
    // Stored as live stores it, so the rebuilt schema's offsets end where live's do (a swapped-in schema
    // would otherwise show one record of lag behind a final marker forever); runTo waits for the write.
    const write = this.storePassed(topic, partition, moved)
      .catch((error: unknown) =>
        this.fail(
          new Error(
            `could not store ${topic}[${partition}] past its transaction markers at offset ${moved}: ${describeError(error)}`,
          ),
        ),
      )
      .finally(() => this.pendingWrites.delete(write));
    this.pendingWrites.add(write);
    this.moveTo(partitionKey, moved);
    if (moved >= target) this.reached(topic, partition);
  }

  /** Moves the stored offset past offsets no handler sees (only ever forward). */
  private storePassed(topic: string, partition: number, nextOffset: bigint): Promise<void> {
    return this.offsetStore!.advance(this.options.groupId, topic, partition, nextOffset.toString());
  }

  /** A partition at its target stops fetching; the phase is over once every partition is at its own. */
  private reached(topic: string, partition: number): void {
    this.consumer!.pause([{ topic, partitions: [partition] }]);
    if ([...this.targets].every(([partitionKey, target]) => (this.positions.get(partitionKey) ?? 0n) >= target))
      this.waiter?.resolve();
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.consumer?.pause(this.topics.map((topic) => ({ topic })));
    this.waiter?.reject(error);
  }

  /**
   * One fetch of one partition: the records between the position and the target, applied in slices of
   * `batchSizeMax` (one transaction each). The fetch accounts for every offset from where it was fetched
   * to its last offset (records, markers, aborted records), so the position then moves to that last
   * offset + 1, capped at the target: a target just past a commit marker, with records after it (live
   * stopped there, the log went on), is reached although no record at the target is ever handed over.
   */
  private async consumeBatch(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    heartbeat: () => Promise<void>,
    resolveOffset: (offset: string) => void,
    fetchedOffset: string | null,
    lastOffsetWithMarkers: string,
  ): Promise<void> {
    const partitionKey = positionKey(topic, partition);
    try {
      const target = this.targets.get(partitionKey) ?? 0n;
      const startedAt = this.positions.get(partitionKey) ?? 0n;
      const wanted = messages.filter(
        (message) => BigInt(message.offset) >= startedAt && BigInt(message.offset) < target,
      );
      for (const slice of chunk(wanted, this.options.batchSizeMax)) {
        const records = slice.map((message) => toInboundRecord(topic, partition, message));
        await this.applyIsolatingFaults(topic, partition, records, heartbeat);
        this.moveTo(partitionKey, BigInt(slice[slice.length - 1]!.offset) + 1n);
        // Resolving moves kafkajs's fetch position on; without it the next fetch returns the same records.
        resolveOffset(slice[slice.length - 1]!.offset);
        this.recordsApplied += slice.length;
        this.options.onProgress?.(this.recordsApplied, 0);
        await heartbeat();
      }
      const passedTo = nextOffsetAfter(lastOffsetWithMarkers);
      if (
        fetchedOffset !== null &&
        BigInt(fetchedOffset) <= startedAt &&
        passedTo > (this.positions.get(partitionKey) ?? 0n) &&
        target > 0n
      ) {
        const moved = passedTo < target ? passedTo : target;
        await this.storePassed(topic, partition, moved);
        resolveOffset((moved - 1n).toString());
        this.moveTo(partitionKey, moved);
      }
      if ((this.positions.get(partitionKey) ?? 0n) >= target) this.reached(topic, partition);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /**
   * Applies records in one transaction; when that fails for a reason a record causes (libs/messaging record-faults.ts, the live transport's rule),
   * splits them in two and tries each half, until the record at fault stands alone: it is refused (counted
   * with the refusals, its offset passed), as the live transport dead-letters it. A single record gets
   * one more try first (a unique violation can be a race with another worker that a fresh transaction
   * sees through). Anything else fails the run, naming the partition and offsets.
   */
  private async applyIsolatingFaults(
    topic: string,
    partition: number,
    records: readonly InboundRecord[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    await applyIsolatingFaults(
      records,
      (slice) => this.applySlice(topic, partition, slice, heartbeat),
      (record, error) => this.refuseAlone(record, error),
    );
  }

  private async applySlice(
    topic: string,
    partition: number,
    slice: readonly InboundRecord[],
    heartbeat: () => Promise<void>,
  ): Promise<SliceOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.applyRecords(topic, partition, slice);
        return { kind: 'done' };
      } catch (error) {
        if (!isRecordFault(error))
          throw new Error(
            `rebuild failed at ${topic}[${partition}] offsets ${slice[0]!.offset}..${slice[slice.length - 1]!.offset}: ${describeError(error)}`,
            { cause: error },
          );
        await heartbeat();
        if (slice.length > 1 || attempt >= 2) return { kind: 'fault', error };
      }
    }
  }

  private async applyRecords(topic: string, partition: number, records: readonly InboundRecord[]): Promise<void> {
    const batch = new InboundBatch(this.options.groupId, topic, partition, records, this.countRejections);
    await this.offsetStore!.runExactlyOnce(batch, async (manager, fresh) => {
      // The rebuild schema only: a crash may lose the last few commits, effects and offsets together
      // (never one without the other), so the rebuild resumes from its stored offsets; and the schema
      // is compared with the live digest before any swap. The commit no longer waits for the WAL flush.
      await manager.query('SET LOCAL synchronous_commit = off');
      const applicable =
        this.refusedLive.size === 0
          ? fresh
          : fresh.filter((record) => {
              const reason = this.refusedLive.get(sourcePosition(record.topic, record.partition, record.offset));
              if (reason !== undefined) batch.reject(record, `refused live: ${reason}`);
              return reason === undefined;
            });
      if (applicable.length > 0) await projectBatch(manager, batch, applicable, NO_OBSERVER);
    });
  }

  /** A record that fails alone: counted as refused, and the stored offset moves past it with no effect. */
  private async refuseAlone(record: InboundRecord, error: unknown): Promise<void> {
    const batch = new InboundBatch(
      this.options.groupId,
      record.topic,
      record.partition,
      [record],
      this.countRejections,
    );
    batch.reject(record, `${describeError(error)} (failed on this record alone)`, error);
    await this.offsetStore!.runExactlyOnce(batch, async () => undefined);
  }

  private readonly countRejections: RejectionSink = async (_groupId, rejections) => {
    this.recordsRejected += rejections.length;
  };

  /** Leaves the group and deletes it, then closes the database; each step bounded, so a failed run still exits. */
  async close(): Promise<void> {
    if (this.consumer) await bounded(this.consumer.disconnect(), CLOSE_STEP_MS_MAX);
    const admin = this.kafka.admin();
    await bounded(
      admin.connect().then(() => admin.deleteGroups([this.rebuildGroupId])),
      CLOSE_STEP_MS_MAX,
    );
    await bounded(admin.disconnect(), CLOSE_STEP_MS_MAX);
    if (this.dataSource?.isInitialized) await bounded(this.dataSource.destroy(), CLOSE_STEP_MS_MAX);
  }
}

/** Where kafkajs fetched a batch from (kafkajs 2.2.4 keeps it on the batch, untyped); null when it does not. */
function fetchedOffsetOf(batch: Batch): string | null {
  const fetchedOffset = (batch as Batch & { fetchedOffset?: unknown }).fetchedOffset;
  return typeof fetchedOffset === 'string' || typeof fetchedOffset === 'number' ? String(fetchedOffset) : null;
}

/** The longest wait for one step of closing (a consumer leaving while a batch hangs on the database). */
const CLOSE_STEP_MS_MAX = 10_000;

/** Waits for `promise` at most `ms`; its failure or lateness is no concern of a close. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

/** The partitions behind, furthest first: `topic[partition] at offset X, target Y`. */
export function describeBehind(behind: readonly PartitionProgress[]): string {
  const ordered: PartitionProgress[] = [];
  const left = [...behind];
  while (left.length > 0) {
    const slowest = slowestPartition(left)!;
    ordered.push(slowest);
    left.splice(left.indexOf(slowest), 1);
  }
  return ordered.map((p) => `${p.topic}[${p.partition}] at offset ${p.position}, target ${p.target}`).join('; ');
}

const NO_OBSERVER: ProjectionObserver = { rejected: () => undefined, invariantViolated: () => undefined };

const sourcePosition = (topic: string, partition: number, offset: string): string => `${topic}/${partition}@${offset}`;

/**
 * The records the live projector refused, read from its DLQ, by source position. Some refusals depend on
 * the order live met records in (a payout refused for an overdraft before the attributions that fund it
 * arrived; the later of two records reusing an event id across partitions), an order a rebuild does not
 * repeat: it applies every attribution before any payout, and partitions side by side. So a rebuild
 * refuses exactly what live refused, and reaches live's digest; a record re-driven after a fix is a new
 * record at a new position, applied in both. A DLQ that does not exist yet holds no refusal; one that
 * cannot be read fails the rebuild, which could not otherwise promise live's digest.
 */
async function refusedLive(kafka: Kafka, groupId: string, readerGroupId: string): Promise<Map<string, string>> {
  const refused = new Map<string, string>();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const dlq = deadLetterTopicName(groupId);
    if (!(await admin.listTopics()).includes(dlq)) return refused;
    const { records } = await readDeadLetterTopic(kafka, admin, dlq, readerGroupId, 120_000);
    for (const { headers } of records) {
      const reason = headers[DLQ_HEADERS.reason];
      const topic = headers[DLQ_HEADERS.sourceTopic];
      if (reason === undefined || topic === undefined || headers[DLQ_HEADERS.consumerGroup] !== groupId) continue;
      refused.set(
        sourcePosition(topic, Number(headers[DLQ_HEADERS.sourcePartition]), headers[DLQ_HEADERS.sourceOffset] ?? ''),
        reason,
      );
    }
    return refused;
  } catch (error) {
    throw new Error(
      `cannot read what the live projector refused from ${deadLetterTopicName(groupId)}: ${describeError(error)}`,
      { cause: error },
    );
  } finally {
    await admin.disconnect();
  }
}
