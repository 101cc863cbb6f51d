import { kafkaEnv, kafkaSecurityOptions } from '@tributary/config';
import { Consumer, Kafka, KafkaMessage, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { chunk, InboundBatch, PostgresOffsetStore, toInboundRecord, type RejectionSink } from '@tributary/messaging';
import { ensureSchema } from '@tributary/persistence';
import { dataSourceOptions, LEDGER_SCHEMA } from '../database/data-source-options';
import { projectBatch, type ProjectionObserver } from '../projection/ledger-writer';
import { assertSchemaName, parsePositionKey, positionKey, readStoredOffsets } from './ledger-queries';

export interface RebuildOptions {
  readonly databaseUrl: string;
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** The live projector's group: the rebuilt schema stores its offsets under this name, so after a swap the live projector resumes from them. */
  readonly groupId: string;
  /** Attribution topic first: payouts are applied only once the attributions up to the target are in, see README. */
  readonly topics: readonly [attributions: string, payouts: string];
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
}

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
  { name: 'ledger_entries_pkey', table: 'ledger_entries', columns: '(source_topic, source_partition, chain_seq)', primaryKey: true },
  { name: 'contribution_credits_pkey', table: 'contribution_credits', columns: '(inference_id, account, contribution_id)', primaryKey: true },
  { name: 'ledger_entries_account_idx', table: 'ledger_entries', columns: '(account, asset)', primaryKey: false },
  { name: 'contribution_credits_contribution_idx', table: 'contribution_credits', columns: '(contribution_id)', primaryKey: false },
] as const;

type Queryable = { query(text: string, parameters?: unknown[]): Promise<unknown> };

/** Drops the deferred indexes of a schema (a fresh rebuild's, or the benchmark's ceiling). */
export async function dropDeferredIndexes(sql: Queryable, schema: string): Promise<void> {
  assertSchemaName(schema);
  for (const index of DEFERRED_INDEXES) {
    await sql.query(index.primaryKey ? `ALTER TABLE ${schema}.${index.table} DROP CONSTRAINT IF EXISTS ${index.name}` : `DROP INDEX IF EXISTS ${schema}.${index.name}`);
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
    const exists = (await sql.query('SELECT 1 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 AND c.conname = $2', [schema, index.name])) as unknown[] | { rows: unknown[] };
    if ((Array.isArray(exists) ? exists : exists.rows).length === 0) await sql.query(`ALTER TABLE ${schema}.${index.table} ADD CONSTRAINT ${index.name} PRIMARY KEY ${index.columns}`);
  }
}

/**
 * Creates (or reopens) a rebuild schema and runs the migrations into it. `prepare`: a fresh schema
 * (nothing applied yet) loses its deferred indexes, which createDeferredIndexes builds at the end; a
 * schema that already holds records keeps whatever it has (a swap of a finished rebuild). `prepared`:
 * a worker process opening a schema its pool prepared. Returns the data source and the stored offsets.
 */
export async function openRebuildSchema(options: RebuildOptions, mode: 'prepare' | 'prepared', poolSizeMax: number): Promise<{ dataSource: DataSource; stored: Map<string, bigint> }> {
  await ensureSchema(options.databaseUrl, options.schema);
  const dataSource = await new DataSource(dataSourceOptions(options.databaseUrl, poolSizeMax, options.schema)).initialize();
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
    for (const topic of topics) for (const { partition, high } of await admin.fetchTopicOffsets(topic)) ends.set(positionKey(topic, partition), BigInt(high));
    return ends;
  } finally {
    await admin.disconnect();
  }
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
 * only counts refusals), so the live projection is untouched while it runs.
 */
export class RebuildEngine implements RebuildRunner {
  private readonly kafka: Kafka;
  private consumer: Consumer | null = null;
  private dataSource: DataSource | null = null;
  private offsetStore: PostgresOffsetStore | null = null;
  private readonly positions = new Map<string, bigint>();
  private targets = new Map<string, bigint>();
  private waiter: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  recordsApplied = 0;
  recordsRejected = 0;

  /** `share`: this engine is one of several worker processes and applies only the partitions it owns. */
  constructor(private readonly options: RebuildOptions, private readonly share: RebuildWorkerShare = { index: 0, count: 1 }) {
    assertSchemaName(options.schema);
    if (options.schema === LEDGER_SCHEMA) throw new RangeError(`--schema: must not be the live schema "${LEDGER_SCHEMA}"`);
    if (!Number.isInteger(share.count) || share.count < 1 || !Number.isInteger(share.index) || share.index < 0 || share.index >= share.count) throw new RangeError(`rebuild worker ${share.index} of ${share.count}: not a valid share`);
    this.kafka = new Kafka({ clientId: `${options.clientId}-rebuild`, brokers: [...options.brokers], ...kafkaSecurityOptions(kafkaEnv().kafkaSecurity), logLevel: logLevel.NOTHING });
  }

  /**
   * Opens the schema (a single engine prepares it first; worker processes find it prepared by the pool
   * that started them) and starts the consumer, paused.
   */
  async open(): Promise<void> {
    const { dataSource, stored } = await openRebuildSchema(this.options, this.share.count === 1 ? 'prepare' : 'prepared', this.options.partitionsConcurrently + 2);
    this.dataSource = dataSource;
    this.offsetStore = new PostgresOffsetStore(dataSource);
    for (const partitionKey of (await topicEndOffsets(this.kafka, this.options.topics)).keys()) {
      if (this.owns(parsePositionKey(partitionKey).partition)) this.positions.set(partitionKey, stored.get(partitionKey) ?? 0n);
    }
    // One fetch serves every partition being applied at once: with kafkajs's default cap of 10 MiB per
    // fetch, one or two partitions filled it, the others waited for the next fetch, and the next fetch
    // waited for every batch of this one (partitions at once stayed one or two, Node sat idle between).
    const bytesPerPartition = this.options.fetchBytesPerPartitionMax ?? 8 * 1024 * 1024;
    this.consumer = this.kafka.consumer({ groupId: this.rebuildGroupId, sessionTimeout: 30_000, maxBytesPerPartition: bytesPerPartition, maxBytes: bytesPerPartition * Math.max(2, this.options.partitionsConcurrently * 2), maxWaitTimeInMs: 250, readUncommitted: false, retry: { retries: 5 } });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: this.options.partitionsConcurrently, eachBatch: (payload) => this.consumeBatch(payload.batch.topic, payload.batch.partition, payload.batch.messages, payload.heartbeat, payload.resolveOffset, payload.batch.lastOffset()) });
    // A fetch of transaction markers alone reaches no handler; the position still moves past them.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0 && payload.lastOffset !== null) this.passMarkers(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
    });
    // Paused until runTo names targets; a batch fetched before this finds no target and pauses itself.
    this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
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
    return topicEndOffsets(this.kafka, this.options.topics);
  }

  /** Records between the current positions and `targets`. */
  remaining(targets: ReadonlyMap<string, bigint>): number {
    return recordsBetween(this.positions, targets);
  }

  /** Applies every record below the targets (of the partitions it owns): the attribution partitions first, then the payout ones. */
  async runTo(targets: ReadonlyMap<string, bigint>): Promise<void> {
    for (const topic of this.options.topics) {
      this.targets = new Map(
        [...targets].filter(([partitionKey]) => {
          const position = parsePositionKey(partitionKey);
          return position.topic === topic && this.owns(position.partition);
        }),
      );
      await new Promise<void>((resolve, reject) => {
        this.waiter = { resolve, reject };
        this.resumeBehind(topic);
      });
    }
  }

  private resumeBehind(topic: string): void {
    if (this.failure) return this.waiter?.reject(this.failure);
    const behind = [...this.targets].filter(([partitionKey, target]) => (this.positions.get(partitionKey) ?? 0n) < target).map(([partitionKey]) => parsePositionKey(partitionKey).partition);
    if (behind.length === 0) return this.waiter?.resolve();
    for (const partition of behind) this.consumer!.seek({ topic, partition, offset: this.positions.get(positionKey(topic, partition))!.toString() });
    this.consumer!.resume([{ topic, partitions: behind }]);
  }

  /**
   * Transactional producers (the attribution service) leave a commit marker after each transaction's
   * records. The live projector's stored offsets count it as read, so the rebuild must too, or it would
   * never reach the live position. Never past the target, never backwards.
   */
  private passMarkers(topic: string, partition: number, nextOffset: bigint): void {
    const partitionKey = positionKey(topic, partition);
    const target = this.targets.get(partitionKey);
    if (target === undefined) return;
    const position = this.positions.get(partitionKey) ?? 0n;
    const moved = nextOffset < target ? nextOffset : target;
    if (moved <= position) return;
    this.positions.set(partitionKey, moved);
    if (moved >= target) this.reached(topic, partition);
  }

  /** A partition at its target stops fetching; the run is over once every partition is at its own. */
  private reached(topic: string, partition: number): void {
    this.consumer!.pause([{ topic, partitions: [partition] }]);
    if ([...this.targets].every(([partitionKey, target]) => (this.positions.get(partitionKey) ?? 0n) >= target)) this.waiter?.resolve();
  }

  private async consumeBatch(topic: string, partition: number, messages: KafkaMessage[], heartbeat: () => Promise<void>, resolveOffset: (offset: string) => void, lastOffsetWithMarkers: string): Promise<void> {
    const partitionKey = positionKey(topic, partition);
    try {
      const target = this.targets.get(partitionKey) ?? 0n;
      const wanted = messages.filter((message) => BigInt(message.offset) >= (this.positions.get(partitionKey) ?? 0n) && BigInt(message.offset) < target);
      for (const slice of chunk(wanted, this.options.batchSizeMax)) {
        const batch = new InboundBatch(this.options.groupId, topic, partition, slice.map((message) => toInboundRecord(topic, partition, message)), this.countRejections);
        await this.offsetStore!.runExactlyOnce(batch, async (manager, records) => {
          // The rebuild schema only: a crash may lose the last few commits, effects and offsets together
          // (never one without the other), so the rebuild resumes from its stored offsets; and the schema
          // is compared with the live digest before any swap. The commit no longer waits for the WAL flush.
          await manager.query('SET LOCAL synchronous_commit = off');
          await projectBatch(manager, batch, records, NO_OBSERVER);
        });
        this.positions.set(partitionKey, BigInt(batch.nextOffset));
        // Resolving moves kafkajs's fetch position on; without it the next fetch returns the same records.
        resolveOffset(slice[slice.length - 1]!.offset);
        this.recordsApplied += slice.length;
        this.options.onProgress?.(this.recordsApplied, 0);
        await heartbeat();
      }
      if (messages.every((message) => BigInt(message.offset) < target)) {
        // Every record of the fetch is applied; a marker after the last one is passed as well.
        resolveOffset(lastOffsetWithMarkers);
        this.passMarkers(topic, partition, BigInt(lastOffsetWithMarkers) + 1n);
      }
      if ((this.positions.get(partitionKey) ?? 0n) >= target) this.reached(topic, partition);
    } catch (error) {
      this.failure = error as Error;
      this.consumer!.pause([{ topic }]);
      this.waiter?.reject(this.failure);
    }
  }

  private readonly countRejections: RejectionSink = async (_groupId, rejections) => {
    this.recordsRejected += rejections.length;
  };

  async close(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    const admin = this.kafka.admin();
    await admin.connect().then(() => admin.deleteGroups([this.rebuildGroupId])).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await this.dataSource?.destroy();
  }
}

const NO_OBSERVER: ProjectionObserver = { rejected: () => undefined, invariantViolated: () => undefined };
