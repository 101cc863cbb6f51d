import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each decision keeps the SHA-256 of the InferenceCompleted record's value it was decided from, so a
 * later record with the same inferenceId tells a re-delivery (same content: skipped and counted) from
 * another inference under a used id (other content: dead-lettered with both hashes). Rows decided before
 * this column existed hold NULL, and a repeat of one of them is taken as a re-delivery, as it was before.
 */
export class DecisionContentHash1764000000400 implements MigrationInterface {
  readonly name = 'DecisionContentHash1764000000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Nullable with no default: adding it rewrites nothing. The check is NOT VALID, so it holds every row
    // written from now on without scanning the existing ones (all NULL) under the table's lock.
    await queryRunner.query('ALTER TABLE decisions ADD COLUMN content_hash bytea');
    await queryRunner.query(
      'ALTER TABLE decisions ADD CONSTRAINT decisions_content_hash_sha256 CHECK (octet_length(content_hash) = 32) NOT VALID',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE decisions DROP COLUMN content_hash'); // its constraint goes with it
  }
}
