import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The payouts service's own state: closed epochs with the ledger position they read, and one saga per payout. */
export class CreatePayoutSagas1764000000300 implements MigrationInterface {
  readonly name = 'CreatePayoutSagas1764000000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    // ledger_positions: the ledger checkpoints ({topic, partition, nextOffset, chainSeq}) the balances reflected.
    await queryRunner.query(`
      CREATE TABLE epochs (
        epoch            integer     PRIMARY KEY CHECK (epoch >= 0),
        closed_at        timestamptz NOT NULL DEFAULT now(),
        closed_by        text        NOT NULL,
        ledger_positions jsonb       NOT NULL,
        payout_count     integer     NOT NULL CHECK (payout_count >= 0)
      )`);
    // One row per payout; UNIQUE (epoch, account, asset) holds "one payout per account and epoch" even
    // if the id rule ever changed. lease_* fence the instance working on a row; attempts count rail calls.
    await queryRunner.query(`
      CREATE TABLE payouts (
        payout_id           text        PRIMARY KEY,
        epoch               integer     NOT NULL REFERENCES epochs (epoch),
        account             text        NOT NULL,
        asset               text        NOT NULL,
        amount_minor        bigint      NOT NULL CHECK (amount_minor > 0),
        rail                text        NOT NULL,
        status              text        NOT NULL CHECK (status IN ('PLANNED', 'REQUESTED', 'SETTLING', 'CONFIRMED', 'ABANDONED', 'SETTLED', 'FAILED', 'REFUSED')),
        attempts            integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        first_attempt_at_ms bigint,
        next_attempt_at_ms  bigint,
        reference           text,
        failure_reason      text,
        request_partition   integer,
        request_offset      bigint,
        lease_token         uuid,
        lease_until         timestamptz,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        UNIQUE (epoch, account, asset)
      )`);
    await queryRunner.query('CREATE INDEX payouts_status_idx ON payouts (status, next_attempt_at_ms)');
    await queryRunner.query('CREATE INDEX payouts_account_idx ON payouts (account, epoch)');
    // Every rail call, recorded before it is made: a crash leaves a STARTED row, and the attempt is resumed.
    await queryRunner.query(`
      CREATE TABLE payout_attempts (
        payout_id    text        NOT NULL REFERENCES payouts (payout_id),
        attempt      integer     NOT NULL CHECK (attempt >= 1),
        outcome      text        NOT NULL CHECK (outcome IN ('STARTED', 'SUCCEEDED', 'FAILED')),
        calls        integer     NOT NULL DEFAULT 1 CHECK (calls >= 1),
        detail       text,
        started_at   timestamptz NOT NULL DEFAULT now(),
        ended_at     timestamptz,
        PRIMARY KEY (payout_id, attempt)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['payout_attempts', 'payouts', 'epochs']) await queryRunner.query(`DROP TABLE ${table}`);
  }
}
