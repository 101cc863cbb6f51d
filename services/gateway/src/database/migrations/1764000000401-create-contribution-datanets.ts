import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The datanet of every contribution the gateway accepted a ContributionSubmitted for: what a
 * ContributionValidated or ContributionRevoked, which name only the contribution, is judged by.
 */
export class CreateContributionDatanets1764000000401 implements MigrationInterface {
  readonly name = 'CreateContributionDatanets1764000000401';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE contribution_datanets (
        contribution_id text        PRIMARY KEY,
        datanet_id      text        NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE contribution_datanets');
  }
}
