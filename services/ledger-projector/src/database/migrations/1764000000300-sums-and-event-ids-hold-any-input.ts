import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two rules that must hold for the worst record the schema allows.
 *
 * Sums never overflow: a balance or a revenue total adds up amounts that are each at most 2^63 - 1
 * minor units, so two of them already pass what `bigint` holds (PostgreSQL raised `bigint out of
 * range` and the projector stopped for every account). They are `numeric` now, which is exact at
 * any size; the scale check keeps them whole minor units. Single amounts (an entry, a fee, a credit)
 * stay `bigint`: the schema bounds each of them to a long.
 *
 * Event ids are scoped by topic: the key of applied_events is (source_topic, event_id), so a payout
 * event cannot shadow a decision that happens to carry the same id, or the other way round. Each row
 * keeps the SHA-256 of the record's value, so a record that reuses an applied id with other content is
 * told apart from a re-delivery of the same event (rows applied before this migration have none, and
 * a repeat of their id counts as a re-delivery).
 */
export class SumsAndEventIdsHoldAnyInput1764000000300 implements MigrationInterface {
  readonly name = 'SumsAndEventIdsHoldAnyInput1764000000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE accounts ALTER COLUMN balance_minor TYPE numeric, ADD CONSTRAINT accounts_balance_whole CHECK (scale(balance_minor) = 0)`,
    );
    await queryRunner.query(
      `ALTER TABLE revenue ALTER COLUMN revenue_minor TYPE numeric, ADD CONSTRAINT revenue_whole CHECK (scale(revenue_minor) = 0)`,
    );
    await queryRunner.query(
      'ALTER TABLE applied_events DROP CONSTRAINT applied_events_pkey, ADD PRIMARY KEY (source_topic, event_id), ADD COLUMN content_hash bytea',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE applied_events DROP COLUMN content_hash, DROP CONSTRAINT applied_events_pkey, ADD PRIMARY KEY (event_id)',
    );
    await queryRunner.query(
      'ALTER TABLE revenue DROP CONSTRAINT revenue_whole, ALTER COLUMN revenue_minor TYPE bigint',
    );
    await queryRunner.query(
      'ALTER TABLE accounts DROP CONSTRAINT accounts_balance_whole, ALTER COLUMN balance_minor TYPE bigint',
    );
  }
}
