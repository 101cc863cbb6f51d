import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateGatewayTables1764000000400 implements MigrationInterface {
  readonly name = 'CreateGatewayTables1764000000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE api_keys (
        key_id       text        PRIMARY KEY,
        key_sha256   text        NOT NULL UNIQUE CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
        producer_id  text        NOT NULL,
        event_types  text[]      NOT NULL,
        datanet_ids  text[]      NOT NULL,
        model_ids    text[]      NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        revoked_at   timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE ingested_events (
        event_id        text        PRIMARY KEY,
        producer_id     text        NOT NULL,
        event_type      text        NOT NULL,
        body_sha256     text        NOT NULL,
        state           text        NOT NULL CHECK (state IN ('pending', 'acknowledged')),
        claim_token     uuid        NOT NULL,
        claimed_at      timestamptz NOT NULL DEFAULT now(),
        topic           text,
        partition       integer,
        kafka_offset    bigint,
        acknowledged_at timestamptz,
        CHECK (state = 'pending' OR (topic IS NOT NULL AND partition IS NOT NULL AND kafka_offset IS NOT NULL))
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE ingested_events');
    await queryRunner.query('DROP TABLE api_keys');
  }
}
