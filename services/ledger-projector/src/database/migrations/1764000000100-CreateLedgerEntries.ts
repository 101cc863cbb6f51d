import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateLedgerEntries1764000000100 implements MigrationInterface {
  readonly name = 'CreateLedgerEntries1764000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ledger_entries (
        entry_id         bigserial PRIMARY KEY,
        transaction_id   text    NOT NULL,
        account          text    NOT NULL,
        asset            text    NOT NULL,
        amount_minor     bigint  NOT NULL,
        source_event_id  text    NOT NULL,
        source_topic     text    NOT NULL,
        source_partition integer NOT NULL,
        source_offset    bigint  NOT NULL
      )`);
    await queryRunner.query('CREATE INDEX ledger_entries_account_idx ON ledger_entries (account, asset)');
    await queryRunner.query(`
      CREATE TABLE applied_events (
        event_id         text    PRIMARY KEY,
        source_topic     text    NOT NULL,
        source_partition integer NOT NULL,
        source_offset    bigint  NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE applied_events');
    await queryRunner.query('DROP TABLE ledger_entries');
  }
}
