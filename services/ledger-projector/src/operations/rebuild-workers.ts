import { createKafkaClient } from '@tributary/kafka-client';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { kafkaEnv, kafkaSecurityOptions, projectRoot } from '@tributary/config';
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { type Kafka, logLevel } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { parsePositionKey } from './ledger-queries';
import {
  createDeferredIndexes,
  openRebuildSchema,
  RebuildEngine,
  rebuildTopics,
  recordsBetween,
  topicEndOffsets,
  type RebuildOptions,
  type RebuildRunner,
  type RebuildWorkerShare,
} from './rebuild-engine';
import { partitionProgress, type RebuildProgress } from './rebuild-progress';

/**
 * A rebuild spread over worker processes. One Node thread decodes, chains and encodes about 20,000
 * events a second at most; a rebuild that replays millions of events should use every core. Each worker
 * is a child process running a RebuildEngine that owns the partitions whose number modulo the worker
 * count is its index (each partition's hash chain stays in one process, in offset order); this pool
 * prepares the schema, hands every worker the same targets, adds up their progress and builds the
 * deferred indexes at the end. Workers write to the same schema: partitions apply concurrently exactly
 * as they do within one engine (balances and revenue are upserted in key order, so they queue rather
 * than deadlock), and each batch still commits its effects and offsets in one transaction.
 *
 * It runs in two phases with a barrier between them: every worker applies the attribution topic up to
 * its targets, and only once all have does any worker apply a payout. A payout is checked against a
 * balance that attributions in other workers' partitions make, so a worker with little to apply would
 * otherwise refuse a payout live had accepted.
 */

const WORKERS_MAX = 16;
/** How long a worker may take to close (consumer leaves, throwaway group deleted) before it is killed. */
const CLOSE_WAIT_MS_MAX = 30_000;

/** Offsets by partition key, as they cross the IPC channel (JSON has no bigint). */
type Targets = Array<[partitionKey: string, offset: string]>;
const toWire = (offsets: ReadonlyMap<string, bigint>): Targets =>
  [...offsets].map(([partitionKey, offset]) => [partitionKey, offset.toString()]);
const fromWire = (offsets: Targets): Map<string, bigint> =>
  new Map(offsets.map(([partitionKey, offset]) => [partitionKey, BigInt(offset)]));
type WorkerOptions = Omit<RebuildOptions, 'onProgress' | 'progressLine'>;

type ToWorker =
  | { readonly type: 'open'; readonly options: WorkerOptions; readonly share: RebuildWorkerShare }
  | { readonly type: 'runTo'; readonly targets: Targets }
  | { readonly type: 'close' };

type FromWorker =
  | { readonly type: 'opened' }
  | { readonly type: 'progress'; readonly applied: number; readonly rejected: number; readonly positions: Targets }
  | { readonly type: 'reached'; readonly positions: Targets; readonly applied: number; readonly rejected: number }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly message: string };

/** One child process and the one request it may have outstanding. */
class RebuildWorker {
  private pending: {
    expect: FromWorker['type'];
    resolve: (reply: FromWorker) => void;
    reject: (error: Error) => void;
  } | null = null;
  private exited: Error | null = null;
  readonly done: Promise<void>;
  applied = 0;
  rejected = 0;

  constructor(
    readonly index: number,
    private readonly child: ChildProcess,
    onProgress: (positions: Targets) => void,
  ) {
    child.on('message', (message: FromWorker) => {
      if (message.type === 'progress') {
        this.applied = message.applied;
        this.rejected = message.rejected;
        onProgress(message.positions);
        return;
      }
      const pending = this.pending;
      this.pending = null;
      if (message.type === 'failed') pending?.reject(new Error(`rebuild worker ${index}: ${message.message}`));
      else if (pending && message.type !== pending.expect)
        pending.reject(
          new Error(`rebuild worker ${index}: answered ${message.type} to a request for ${pending.expect}`),
        );
      else pending?.resolve(message);
    });
    this.done = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exited = new Error(`rebuild worker ${index} exited (${signal ?? `code ${code}`})`);
        this.pending?.reject(this.exited);
        this.pending = null;
        resolve();
      }),
    );
  }

  request<T extends FromWorker['type']>(message: ToWorker, expect: T): Promise<Extract<FromWorker, { type: T }>> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.pending)
      return Promise.reject(new Error(`rebuild worker ${this.index}: a request is already outstanding`));
    return new Promise((resolve, reject) => {
      this.pending = { expect, resolve: resolve as (reply: FromWorker) => void, reject };
      this.child.send(message);
    });
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_WAIT_MS_MAX);
      await this.request({ type: 'close' }, 'closed').catch(() => this.child.kill('SIGKILL'));
      await this.done;
      clearTimeout(timer);
    }
  }
}

export class RebuildWorkerPool implements RebuildRunner {
  private readonly kafka: Kafka;
  private readonly count: number;
  private readonly workers: RebuildWorker[] = [];
  private readonly positions = new Map<string, bigint>();
  private runTargets = new Map<string, bigint>();
  private dataSource: DataSource | null = null;

  constructor(private readonly options: RebuildOptions) {
    this.count = options.workers ?? 1;
    if (!Number.isInteger(this.count) || this.count < 2 || this.count > WORKERS_MAX)
      throw new RangeError(`--workers: a pool needs 2 to ${WORKERS_MAX} workers, not ${options.workers}`);
    this.kafka = createKafkaClient({
      clientId: `${options.clientId}-rebuild`,
      brokers: options.brokers,
      ...kafkaSecurityOptions(kafkaEnv().kafkaSecurity),
      logLevel: logLevel.NOTHING,
    });
  }

  /** Prepares the schema here (migrations, deferred indexes dropped when fresh), then starts the workers on it. */
  async open(): Promise<void> {
    const { dataSource, stored } = await openRebuildSchema(this.options, 'prepare', 2);
    this.dataSource = dataSource;
    for (const [partitionKey, offset] of stored) this.positions.set(partitionKey, offset);
    const { onProgress: _, progressLine: __, ...workerOptions } = this.options;
    const perWorker = {
      ...workerOptions,
      workers: 1,
      partitionsConcurrently: Math.max(1, Math.ceil(this.options.partitionsConcurrently / this.count)),
    };
    for (let index = 0; index < this.count; index += 1)
      this.workers.push(new RebuildWorker(index, spawnWorker(), (positions) => this.reportProgress(positions)));
    await Promise.all(
      this.workers.map((worker) =>
        worker.request(
          { type: 'open', options: perWorker, share: { index: worker.index, count: this.count } },
          'opened',
        ),
      ),
    );
  }

  get source(): DataSource {
    if (!this.dataSource) throw new Error('the rebuild pool is not open');
    return this.dataSource;
  }

  get recordsApplied(): number {
    return this.workers.reduce((sum, worker) => sum + worker.applied, 0);
  }

  get recordsRejected(): number {
    return this.workers.reduce((sum, worker) => sum + worker.rejected, 0);
  }

  endOffsets(): Promise<Map<string, bigint>> {
    return topicEndOffsets(this.kafka, rebuildTopics(this.options));
  }

  remaining(targets: ReadonlyMap<string, bigint>): number {
    return recordsBetween(this.positions, targets);
  }

  progress(): RebuildProgress {
    return {
      applied: this.recordsApplied,
      rejected: this.recordsRejected,
      partitions: partitionProgress(this.positions, this.runTargets),
    };
  }

  /**
   * Every worker runs to the same targets (each applies the partitions it owns), one topic at a time:
   * the attribution targets in all workers, then (the barrier) the payout targets, then the funding ones. A failure in one
   * worker fails the run.
   */
  async runTo(targets: ReadonlyMap<string, bigint>): Promise<void> {
    this.runTargets = new Map(targets);
    for (const topic of rebuildTopics(this.options)) {
      const wire = toWire(
        new Map([...targets].filter(([partitionKey]) => parsePositionKey(partitionKey).topic === topic)),
      );
      const replies = await Promise.all(
        this.workers.map((worker) => worker.request({ type: 'runTo', targets: wire }, 'reached')),
      );
      replies.forEach((reply, index) => {
        this.workers[index]!.applied = reply.applied;
        this.workers[index]!.rejected = reply.rejected;
        this.movePositions(reply.positions);
      });
    }
  }

  private movePositions(positions: Targets): void {
    for (const [partitionKey, offset] of fromWire(positions))
      if (offset > (this.positions.get(partitionKey) ?? 0n)) this.positions.set(partitionKey, offset);
  }

  async createDeferredIndexes(): Promise<void> {
    await createDeferredIndexes(this.source, this.options.schema);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    await this.dataSource?.destroy();
  }

  private reportProgress(positions: Targets): void {
    this.movePositions(positions);
    this.options.onProgress?.(this.recordsApplied, 0);
  }
}

/**
 * This file is also the workers' entry point: compiled (`node dist/...`), a worker runs its compiled self with plain
 * node; from TypeScript source (`npm start`, the tests), through ts-node as its parent does.
 */
function spawnWorker(): ChildProcess {
  const fromSource = __filename.endsWith('.ts');
  return fork(__filename, [], {
    cwd: projectRoot(),
    execArgv: fromSource ? ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'] : [],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The worker side: one RebuildEngine driven by the pool's messages, one at a time. */
function serveRebuildWorker(): void {
  let engine: RebuildEngine | null = null;
  const send = (message: FromWorker) => process.send?.(message);
  const handle = async (message: ToWorker): Promise<FromWorker> => {
    switch (message.type) {
      case 'open':
        engine = new RebuildEngine(
          {
            ...message.options,
            onProgress: (applied) =>
              send({
                type: 'progress',
                applied,
                rejected: engine?.recordsRejected ?? 0,
                positions: toWire(engine?.currentPositions ?? new Map()),
              }),
          },
          message.share,
        );
        await engine.open();
        return { type: 'opened' };
      case 'runTo': {
        if (!engine) throw new Error('runTo before open');
        await engine.runTo(fromWire(message.targets));
        return {
          type: 'reached',
          positions: toWire(engine.currentPositions),
          applied: engine.recordsApplied,
          rejected: engine.recordsRejected,
        };
      }
      case 'close':
        await engine?.close();
        return { type: 'closed' };
      default: {
        const unknown: never = message;
        throw new Error(`unknown message ${JSON.stringify(unknown)}`);
      }
    }
  };
  process.on('message', (message: ToWorker) => {
    handle(message).then(
      (reply) => {
        send(reply);
        if (reply.type === 'closed') process.disconnect();
      },
      (error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.message : String(error) }),
    );
  });
  // The pool went away (crashed or killed): nothing is left to report to, and the batch in flight rolls back.
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) {
  // A worker process is a main of its own: kafkajs's wire fast paths (libs/kafka-wire) first.
  installKafkaWireFastPaths();
  serveRebuildWorker();
}
