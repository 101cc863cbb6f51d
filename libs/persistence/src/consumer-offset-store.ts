import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import type { InboundBatch, InboundRecord, OffsetStore, StoredOffset } from '@tributary/messaging';
import { lockCreatingOnMiss } from './locked-row';

const TABLE = 'consumer_offsets';

/**
 * Consumed offsets kept in PostgreSQL beside a handler's effects. Committing both in one transaction
 * is what makes "each event changes the ledger exactly once" hold through crashes and rebalances: a
 * record either left its effects and moved the offset, or did neither.
 */
export class PostgresOffsetStore implements OffsetStore {
  constructor(private readonly dataSource: DataSource) {}

  async load(groupId: string, topics: readonly string[]): Promise<StoredOffset[]> {
    if (topics.length === 0) return [];
    const rows: Array<{ topic: string; partition: number; next_offset: string }> = await this.dataSource.query(
      `SELECT topic, partition, next_offset FROM ${TABLE} WHERE group_id = $1 AND topic = ANY($2)`,
      [groupId, topics],
    );
    return rows.map((row) => ({ topic: row.topic, partition: row.partition, offset: String(row.next_offset) }));
  }

  /**
   * Moves a partition's stored offset forward past records that carry no effect (transaction markers).
   * Only ever forward, so it cannot race a batch that already moved it further.
   */
  async advance(groupId: string, topic: string, partition: number, nextOffset: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO ${TABLE} (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
       ON CONFLICT (group_id, topic, partition)
       DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now() WHERE ${TABLE}.next_offset < EXCLUDED.next_offset`,
      [groupId, topic, partition, nextOffset],
    );
  }

  /**
   * Runs `apply` with the records of the batch that this group has not applied yet, inside one
   * transaction that also moves the stored offset past the batch. The offset row is locked first, so a
   * second instance that still holds the partition after a rebalance waits, then finds nothing to do.
   * Rejections are published to the DLQ before the commit: a crash after the commit cannot lose them.
   */
  async runExactlyOnce(
    batch: InboundBatch,
    apply: (manager: EntityManager, records: readonly InboundRecord[]) => Promise<void>,
  ): Promise<{ appliedCount: number }> {
    // READ COMMITTED, every connection's default (postgresOptions).
    return this.dataSource.transaction(async (manager) => {
      const stored = await lockAndMoveOffset(manager, batch);
      const fresh = batch.records.filter((record) => BigInt(record.offset) >= stored);
      if (fresh.length > 0) await apply(manager, fresh);
      await batch.flushRejections();
      return { appliedCount: fresh.length };
    });
  }
}

/**
 * The partition's stored offset, its row locked, and the row moved past the batch, in one statement. It is
 * moved first, not last: the row is this partition's alone and locked already, and the handler's last
 * statement is then the last before the commit (the projector's hottest rows, ledger-writer.ts). The
 * offset read is the one the lock waited for: a holder that committed the same batch meanwhile leaves no
 * fresh record. The row is created (at 0) by the partition's first batch.
 */
async function lockAndMoveOffset(manager: EntityManager, batch: InboundBatch): Promise<bigint> {
  const key = [batch.groupId, batch.topic, batch.partition];
  const lockAndMove = () =>
    manager.query<Array<{ next_offset: string }>>(
      // The update reads the lock's row count, so it runs after the lock (data-modifying WITH queries have
      // no promised order); it moves the row only forward.
      `WITH locked AS (
         SELECT next_offset FROM ${TABLE} WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE
       ), moved AS (
         UPDATE ${TABLE} SET next_offset = $4, updated_at = now()
          WHERE group_id = $1 AND topic = $2 AND partition = $3 AND next_offset < $4
            AND (SELECT count(*) FROM locked) > 0
       )
       SELECT next_offset FROM locked`,
      [...key, batch.nextOffset],
    );
  const [row] = await lockCreatingOnMiss(lockAndMove, () =>
    manager.query(
      `INSERT INTO ${TABLE} (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, 0)
       ON CONFLICT (group_id, topic, partition) DO NOTHING`,
      key,
    ),
  );
  return BigInt(row.next_offset);
}

/** Every service that keeps offsets in its database includes this migration. */
export class CreateConsumerOffsets1764000000000 implements MigrationInterface {
  readonly name = 'CreateConsumerOffsets1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ${TABLE} (
        group_id    text        NOT NULL,
        topic       text        NOT NULL,
        partition   integer     NOT NULL CHECK (partition >= 0),
        next_offset bigint      NOT NULL CHECK (next_offset >= 0),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, topic, partition)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ${TABLE}`);
  }
}
