import type { DataSource, EntityManager } from 'typeorm';
import {
  entityKey,
  entityOf,
  foldTableRecords,
  type EntityKind,
  type EntityVersion,
  type FoldOptions,
  type PartitionProgress,
  type TableRecord,
  type TableRejection,
} from '@tributary/attribution';
import { lockCreatingOnMiss } from '@tributary/persistence';
import { TABLE_PROGRESS_CHANNEL } from './progress-signal';

type Queryable = Pick<EntityManager, 'query'>;

interface VersionRow {
  entity: EntityKind;
  id: string;
  partition: number;
  offset: string;
  visible_from_ms: string;
  state: EntityVersion['state'];
}

/** One record of a batch: decoded into a table event, or not decodable (it still moves the watermark). */
export type BatchRecord = {
  readonly offset: bigint;
  readonly timestampMs: number;
  readonly event: TableRecord['event'] | null;
};

/**
 * Writes the table fold into PostgreSQL inside the caller's transaction (the one that also moves the
 * table consumer's offsets), and reads versions back for the decider.
 */
export class StateStore {
  /** `options`: what new models are checked against when folded (the operator's policy; datanet terms always). */
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: FoldOptions = {},
  ) {}

  /**
   * Folds one partition's fresh records, and moves its progress to `nextOffset` (past the transaction
   * markers after the last record, when the batch ends in them); returns the fold's rejections for the DLQ.
   */
  async apply(
    manager: EntityManager,
    topic: string,
    partition: number,
    records: readonly BatchRecord[],
    nextOffset: bigint,
  ): Promise<TableRejection[]> {
    const decoded = records
      .filter((record) => record.event !== null)
      .map((record) => ({ ...record, partition }) as TableRecord);
    const locked = await lockProgressWithLatest(manager, topic, partition, decoded);
    let progress = locked.progress;
    const latest = locked.latest;
    const versions: EntityVersion[] = [];
    const rejected: TableRejection[] = [];
    let run: TableRecord[] = [];
    const foldRun = () => {
      const result = foldTableRecords(progress, latest, run, this.options);
      for (const version of result.versions) latest.set(entityKey(version.entity, version.id), version.state);
      versions.push(...result.versions);
      rejected.push(...result.rejected);
      progress = result.progress;
      run = [];
    };
    for (const record of records) {
      if (record.event !== null) {
        run.push({ partition, offset: record.offset, timestampMs: record.timestampMs, event: record.event });
        continue;
      }
      // An undecodable record is still a record of the partition: it moves the watermark like any other.
      foldRun();
      if (record.offset >= progress.nextOffset) {
        progress = {
          ...progress,
          nextOffset: record.offset + 1n,
          watermarkMs: Math.max(progress.watermarkMs, record.timestampMs),
        };
      }
    }
    foldRun();
    // Markers carry no event: the position passes them, the watermark stays.
    if (nextOffset > progress.nextOffset) progress = { ...progress, nextOffset };
    await insertVersionsAndMove(manager, topic, partition, versions, progress);
    return rejected;
  }

  async progress(): Promise<PartitionProgress[]> {
    const rows: Array<{ topic: string; partition: number; next_offset: string; watermark_ms: string }> =
      await this.dataSource.query('SELECT topic, partition, next_offset, watermark_ms FROM table_progress');
    return rows.map((row) => ({
      topic: row.topic,
      partition: row.partition,
      nextOffset: BigInt(row.next_offset),
      watermarkMs: Number(row.watermark_ms),
    }));
  }

  /**
   * Every version of the named entities visible at or before asOfMaxMs, grouped by entityKey; with a
   * key's `afterMs`, only those visible after it (the caller already holds the earlier ones).
   */
  async versions(
    keys: ReadonlyArray<{ entity: EntityKind; id: string; afterMs?: number }>,
    asOfMaxMs: number,
  ): Promise<Map<string, EntityVersion[]>> {
    const grouped = new Map<string, EntityVersion[]>();
    if (keys.length === 0) return grouped;
    const rows: VersionRow[] = await this.dataSource.query(
      `SELECT v.entity, v.id, v.partition, v."offset", v.visible_from_ms, v.state
         FROM entity_versions v
         JOIN unnest($1::text[], $2::text[], $4::bigint[]) AS k(entity, id, after_ms) ON v.entity = k.entity AND v.id = k.id
        WHERE v.visible_from_ms <= $3 AND v.visible_from_ms > k.after_ms`,
      [
        keys.map((key) => key.entity),
        keys.map((key) => key.id),
        asOfMaxMs,
        keys.map((key) => key.afterMs ?? Number.MIN_SAFE_INTEGER),
      ],
    );
    for (const row of rows) {
      const key = entityKey(row.entity, row.id);
      const list = grouped.get(key) ?? [];
      list.push(versionOf(row));
      grouped.set(key, list);
    }
    return grouped;
  }

  /**
   * Moves a partition's progress past transaction commit or abort markers: they carry no event, so no
   * version and no watermark, but until the progress passes them the partition never reaches its end
   * offset and the ordering rule would wait on it. Only ever forward; the deciders waiting are told.
   */
  async skipTo(topic: string, partition: number, nextOffset: bigint): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO table_progress (topic, partition, next_offset, watermark_ms) VALUES ($1, $2, $3, -1)
       ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset
        WHERE table_progress.next_offset < EXCLUDED.next_offset`,
      [topic, partition, nextOffset.toString()],
    );
    await this.dataSource.query('SELECT pg_notify($1, $2)', [TABLE_PROGRESS_CHANNEL, '']);
  }

  /** Forgets the whole table state: the next start folds the table topics again from offset 0. */
  async reset(tablesGroupId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query('DELETE FROM entity_versions');
      await manager.query('DELETE FROM table_progress');
      await manager.query('DELETE FROM consumer_offsets WHERE group_id = $1', [tablesGroupId]);
    });
  }
}

/**
 * The partition's progress, its row locked, and the latest state of every entity the records touch and
 * of every datanet a ModelRegistered among them names (the fold checks a new model against the terms of
 * its datanets as the table state knows them), in one statement. The row is created by the partition's
 * first batch. The offset store locked the partition's offset row before (runExactlyOnce), so no other
 * holder of the partition writes versions while this statement's snapshot stands.
 */
async function lockProgressWithLatest(
  manager: Queryable,
  topic: string,
  partition: number,
  records: readonly TableRecord[],
): Promise<{ progress: PartitionProgress; latest: Map<string, EntityVersion['state']> }> {
  const byKey = new Map<string, { entity: EntityKind; id: string }>();
  for (const record of records) {
    const { entity, id } = entityOf(record.event);
    byKey.set(entityKey(entity, id), { entity, id });
    if (record.event.type === 'ModelRegistered') {
      for (const datanetId of record.event.datanetIds)
        byKey.set(entityKey('datanet', datanetId), { entity: 'datanet', id: datanetId });
    }
  }
  const keys = [...byKey.values()];
  const lock = () =>
    manager.query<
      Array<{
        next_offset: string;
        watermark_ms: string;
        entity: EntityKind | null;
        id: string | null;
        state: EntityVersion['state'] | null;
      }>
    >(
      `WITH progress AS (
         SELECT next_offset, watermark_ms FROM table_progress WHERE topic = $1 AND partition = $2 FOR UPDATE
       )
       SELECT p.next_offset, p.watermark_ms, l.entity, l.id, l.state
         FROM progress AS p
         LEFT JOIN (
           SELECT DISTINCT ON (v.entity, v.id) v.entity, v.id, v.state
             FROM entity_versions v
             JOIN unnest($3::text[], $4::text[]) AS k(entity, id) ON v.entity = k.entity AND v.id = k.id
            ORDER BY v.entity, v.id, v.visible_from_ms DESC, v.partition DESC, v."offset" DESC
         ) AS l ON true`,
      [topic, partition, keys.map((key) => key.entity), keys.map((key) => key.id)],
    );
  const rows = await lockCreatingOnMiss(lock, () =>
    manager.query(
      `INSERT INTO table_progress (topic, partition, next_offset, watermark_ms) VALUES ($1, $2, 0, -1)
       ON CONFLICT (topic, partition) DO NOTHING`,
      [topic, partition],
    ),
  );
  const latest = new Map<string, EntityVersion['state']>();
  for (const row of rows) if (row.entity !== null) latest.set(entityKey(row.entity, row.id!), row.state!);
  return {
    progress: {
      topic,
      partition,
      nextOffset: BigInt(rows[0].next_offset),
      watermarkMs: Number(rows[0].watermark_ms),
    },
    latest,
  };
}

/**
 * The batch's new versions and the partition's progress moved past them, in one statement (its row is
 * locked already). The move reads the insert's row count, so it runs after it (data-modifying WITH
 * queries have no promised order). The notification is delivered when the transaction commits, to the
 * deciders waiting for the tables (TableProgressSignal).
 */
async function insertVersionsAndMove(
  manager: Queryable,
  topic: string,
  partition: number,
  versions: readonly EntityVersion[],
  progress: PartitionProgress,
): Promise<void> {
  await manager.query(
    `WITH inserted AS (
       INSERT INTO entity_versions (entity, id, topic, partition, "offset", visible_from_ms, state)
       SELECT entity, id, $1, partition, "offset", visible_from_ms, state
         FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[], $6::bigint[], $7::jsonb[])
           AS v(entity, id, partition, "offset", visible_from_ms, state)
       ON CONFLICT DO NOTHING
       RETURNING 1
     ), moved AS (
       UPDATE table_progress SET next_offset = $9, watermark_ms = $10
        WHERE topic = $1 AND partition = $8 AND (SELECT count(*) FROM inserted) >= 0
       RETURNING 1
     )
     SELECT pg_notify($11, '') FROM moved`,
    [
      topic,
      versions.map((version) => version.entity),
      versions.map((version) => version.id),
      versions.map((version) => version.partition),
      versions.map((version) => version.offset.toString()),
      versions.map((version) => version.visibleFromMs),
      versions.map((version) => JSON.stringify(version.state)),
      partition,
      progress.nextOffset.toString(),
      progress.watermarkMs,
      TABLE_PROGRESS_CHANNEL,
    ],
  );
}

function versionOf(row: VersionRow): EntityVersion {
  return {
    entity: row.entity,
    id: row.id,
    partition: row.partition,
    offset: BigInt(row.offset),
    visibleFromMs: Number(row.visible_from_ms),
    state: row.state,
  } as EntityVersion;
}
