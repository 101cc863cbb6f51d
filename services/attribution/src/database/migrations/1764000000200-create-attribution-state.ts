import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The attribution service's own schema: the table state it folds from the datanet, contribution and
 * model topics (as versions, so it can read "as of" an inference's time), how far that fold got per
 * partition, and every decision it made (the dedup set and the explain store).
 */
export class CreateAttributionState1764000000200 implements MigrationInterface {
  readonly name = 'CreateAttributionState1764000000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    // One row per state change of an entity; visible_from_ms is the partition watermark (ordering.ts).
    await queryRunner.query(`
      CREATE TABLE entity_versions (
        entity          text    NOT NULL CHECK (entity IN ('datanet', 'contribution', 'model')),
        id              text    NOT NULL,
        topic           text    NOT NULL,
        partition       integer NOT NULL CHECK (partition >= 0),
        "offset"        bigint  NOT NULL CHECK ("offset" >= 0),
        visible_from_ms bigint  NOT NULL,
        state           jsonb   NOT NULL,
        PRIMARY KEY (entity, id, partition, "offset")
      )`);
    // Written in the same transaction as the versions and the table consumer's offsets.
    await queryRunner.query(`
      CREATE TABLE table_progress (
        topic        text    NOT NULL,
        partition    integer NOT NULL CHECK (partition >= 0),
        next_offset  bigint  NOT NULL CHECK (next_offset >= 0),
        watermark_ms bigint  NOT NULL,
        PRIMARY KEY (topic, partition)
      )`);
    // Who may write decisions of an inference partition: the holder of its latest claim (a fencing token).
    await queryRunner.query(`
      CREATE TABLE partition_claims (
        partition   integer     PRIMARY KEY CHECK (partition >= 0),
        claim_token text        NOT NULL,
        claimed_at  timestamptz NOT NULL DEFAULT now()
      )`);
    // One row per decided inference: the dedup set (primary key) and the decision itself, as sent.
    await queryRunner.query(`
      CREATE TABLE decisions (
        inference_id        text        PRIMARY KEY,
        inference_partition integer     NOT NULL,
        inference_offset    bigint      NOT NULL,
        event_id            text        NOT NULL,
        method              text        NOT NULL,
        value               bytea       NOT NULL,
        headers             jsonb       NOT NULL,
        decided_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX decisions_position_idx ON decisions (inference_partition, inference_offset)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['decisions', 'partition_claims', 'table_progress', 'entity_versions']) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
