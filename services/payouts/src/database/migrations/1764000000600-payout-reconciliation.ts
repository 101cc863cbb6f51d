import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payouts whose rail gave no definite answer wait in NEEDS_RECONCILIATION (their amount stays reserved
 * in the ledger) until a definite one arrives. `resolution` records that answer: where it came from
 * (the rail's status query or an operator), the outcome, the rail's reference or reason, who, when and
 * the evidence. An attempt the rail refused for good is REFUSED; FAILED stays "no definite answer".
 */
export class PayoutReconciliation1764000000600 implements MigrationInterface {
  readonly name = 'PayoutReconciliation1764000000600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE payouts DROP CONSTRAINT payouts_status_check');
    await queryRunner.query(`ALTER TABLE payouts ADD CONSTRAINT payouts_status_check
      CHECK (status IN ('PLANNED', 'REQUESTED', 'SETTLING', 'NEEDS_RECONCILIATION', 'CONFIRMED', 'ABANDONED', 'SETTLED', 'FAILED', 'REFUSED'))`);
    await queryRunner.query('ALTER TABLE payouts ADD COLUMN resolution jsonb');
    await queryRunner.query('ALTER TABLE payout_attempts DROP CONSTRAINT payout_attempts_outcome_check');
    await queryRunner.query(
      `ALTER TABLE payout_attempts ADD CONSTRAINT payout_attempts_outcome_check CHECK (outcome IN ('STARTED', 'SUCCEEDED', 'FAILED', 'REFUSED'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE payout_attempts DROP CONSTRAINT payout_attempts_outcome_check');
    await queryRunner.query(
      `ALTER TABLE payout_attempts ADD CONSTRAINT payout_attempts_outcome_check CHECK (outcome IN ('STARTED', 'SUCCEEDED', 'FAILED'))`,
    );
    await queryRunner.query('ALTER TABLE payouts DROP COLUMN resolution');
    await queryRunner.query('ALTER TABLE payouts DROP CONSTRAINT payouts_status_check');
    await queryRunner.query(`ALTER TABLE payouts ADD CONSTRAINT payouts_status_check
      CHECK (status IN ('PLANNED', 'REQUESTED', 'SETTLING', 'CONFIRMED', 'ABANDONED', 'SETTLED', 'FAILED', 'REFUSED'))`);
  }
}
