import { Client } from 'pg';
import { copySchemaGrants } from '@tributary/persistence';
import { LEDGER_SCHEMA } from '../database/data-source-options';
import { readDigest, readStoredOffsets } from './ledger-queries';
import {
  assertReachable,
  PROGRESS_INTERVAL_MS_DEFAULT,
  RebuildEngine,
  type RebuildOptions,
  type RebuildRunner,
} from './rebuild-engine';
import { ProgressLines } from './rebuild-progress';
import { RebuildWorkerPool } from './rebuild-workers';

export {
  createDeferredIndexes,
  DEFERRED_INDEXES,
  dropDeferredIndexes,
  RebuildEngine,
  type RebuildOptions,
  type RebuildRunner,
} from './rebuild-engine';

/** One engine in this process, or (workers > 1) a pool of worker processes sharing the partitions out. */
export function rebuildRunner(options: RebuildOptions): RebuildRunner {
  return (options.workers ?? 1) > 1 ? new RebuildWorkerPool(options) : new RebuildEngine(options);
}

export interface RebuildResult {
  readonly schema: string;
  readonly records: number;
  readonly rejected: number;
  readonly seconds: number;
  readonly rebuildDigest: string;
  readonly liveDigest: string;
  readonly matches: boolean;
}

/**
 * A consistent view of the live ledger without stopping it: offsets and effects commit together, so
 * one REPEATABLE READ snapshot gives offsets and a digest that belong to each other.
 */
export async function liveSnapshot(
  databaseUrl: string,
  groupId: string,
): Promise<{ offsets: Map<string, bigint>; digest: string }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const exists = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [LEDGER_SCHEMA]);
    if (exists.rowCount === 0) return { offsets: new Map(), digest: '' };
    const offsets = await readStoredOffsets(client, LEDGER_SCHEMA, groupId);
    const digest = await readDigest(client, LEDGER_SCHEMA);
    await client.query('COMMIT');
    return { offsets, digest };
  } finally {
    await client.end();
  }
}

/**
 * `rebuild`: projects the log from offset 0 into `schema`, up to where the live projection stands at
 * the start (a consistent snapshot), then compares the two digests. The live projector keeps running.
 * Targets past the end of their partition fail it at once; a partition that stops moving fails it
 * within the stall timeout; both name topic, partition and offset. With `progressLine`, a line of
 * progress every `progressIntervalMs`.
 */
export async function rebuild(options: RebuildOptions): Promise<RebuildResult> {
  const startedMs = Date.now();
  const engine = rebuildRunner(options);
  try {
    await engine.open();
    const live = await liveSnapshot(options.databaseUrl, options.groupId);
    // Read after the snapshot, so every live offset is at or below these ends unless it cannot be reached.
    const ends = await engine.endOffsets();
    const targets = options.to === 'end' ? ends : live.offsets;
    assertReachable(targets, ends);
    const total = engine.remaining(targets);
    options.onProgress?.(0, total);
    const lines = options.progressLine
      ? new ProgressLines(
          () => engine.progress(),
          total,
          options.progressLine,
          options.progressIntervalMs ?? PROGRESS_INTERVAL_MS_DEFAULT,
        ).start()
      : null;
    try {
      await engine.runTo(targets);
    } finally {
      lines?.stop();
    }
    options.progressLine?.('rebuild: every record applied; building the deferred indexes, then reading the digest');
    await engine.createDeferredIndexes();
    const rebuildDigest = await readDigest(engine.source, options.schema);
    return {
      schema: options.schema,
      records: engine.recordsApplied,
      rejected: engine.recordsRejected,
      seconds: (Date.now() - startedMs) / 1000,
      rebuildDigest,
      liveDigest: live.digest,
      matches: rebuildDigest === live.digest,
    };
  } finally {
    await engine.close();
  }
}

export interface SwapResult {
  readonly retiredSchema: string;
  readonly digest: string;
}

const CATCH_UP_ROUNDS_MAX = 10;

/**
 * `swap`: promotes a rebuilt schema to `ledger` atomically, by renaming schemas in one transaction.
 * It first catches the rebuild up with the live projection, then locks the live consumer_offsets
 * table (live batches wait, readers do not), applies the last few records, compares the digests,
 * and renames: `ledger` → `ledger_retired_<time>`, `<schema>` → `ledger`. A live batch that waited on
 * the lock resolves `consumer_offsets` again after it and lands in the new schema, whose offsets
 * (stored under the live group) equal the old ones at that moment.
 */
export async function swap(options: RebuildOptions, lockTimeoutMs = 30_000): Promise<SwapResult> {
  const engine = rebuildRunner(options);
  const client = new Client({ connectionString: options.databaseUrl });
  try {
    await engine.open();
    for (let round = 0; round < CATCH_UP_ROUNDS_MAX; round += 1) {
      const live = await liveSnapshot(options.databaseUrl, options.groupId);
      assertReachable(live.offsets, await engine.endOffsets());
      if (engine.remaining(live.offsets) < options.batchSizeMax) break;
      await engine.runTo(live.offsets);
    }
    // Built before the lock, so live batches never wait on an index build.
    await engine.createDeferredIndexes();
    await client.connect();
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
    await client.query(`LOCK TABLE ${LEDGER_SCHEMA}.consumer_offsets IN ACCESS EXCLUSIVE MODE`);
    const liveOffsets = await readStoredOffsets(client, LEDGER_SCHEMA, options.groupId);
    await engine.runTo(liveOffsets);
    const [liveDigest, rebuiltDigest] = [
      await readDigest(client, LEDGER_SCHEMA),
      await readDigest(engine.source, options.schema),
    ];
    if (liveDigest !== rebuiltDigest)
      throw new Error(
        `swap refused: the rebuilt digest ${rebuiltDigest} differs from the live digest ${liveDigest} at the same offsets`,
      );
    const retiredSchema = `ledger_retired_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
    // Grants belong to the schema and its tables, not to the name: the services' roles keep what they had.
    await copySchemaGrants(client, LEDGER_SCHEMA, options.schema);
    await client.query(`ALTER SCHEMA ${LEDGER_SCHEMA} RENAME TO ${retiredSchema}`);
    await client.query(`ALTER SCHEMA ${options.schema} RENAME TO ${LEDGER_SCHEMA}`);
    await client.query('COMMIT');
    return { retiredSchema, digest: liveDigest };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
    await engine.close();
  }
}
