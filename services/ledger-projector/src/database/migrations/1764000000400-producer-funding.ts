import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the backed-credit rules (libs/ledger backing.ts) need from the ledger, per producer: the fees
 * its inferences reported and the credits they earned (from decisions), and the money it paid in and
 * had taken back (FundsDeposited / FundsReversed on the funding topic).
 *
 * - `producer_funding`: one row per (producer, asset). `fees_minor` and `credited_minor` add up the
 *   decisions whose inference that producer published (credited = the decision's postings to earning
 *   accounts, everything but the consumer's debit; a balanced decision credits exactly its fee);
 *   `deposits_minor` and `chargebacks_minor` add up its deposits and reversals. Chargebacks may pass
 *   deposits: the difference is the producer's debt.
 * - `producer_credits`: one row per (earning account, producer, asset): what that account was credited
 *   from that producer's inferences. Summed over producers it is the account's earned total.
 *
 * A decision without a producer (written before InferenceAttributed v3) counts under producer '' (the
 * empty string). Funding events require a producer of 1 character or more, so '' is never funded and
 * its credits are never backed. Decisions applied before this migration are counted here under '' as
 * well: the read model did not keep their producer (a rebuild from offset 0 files a v3 decision among
 * them under its real producer).
 *
 * Sums are `numeric` with a whole-number check, like balances since 1764000000300: exact at any size,
 * so no total ever overflows whatever the amounts the schema lets through.
 */
export class ProducerFunding1764000000400 implements MigrationInterface {
  readonly name = 'ProducerFunding1764000000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE producer_funding (
        producer text COLLATE "C" NOT NULL,
        asset text COLLATE "C" NOT NULL,
        fees_minor numeric NOT NULL DEFAULT 0 CONSTRAINT producer_funding_fees_whole CHECK (scale(fees_minor) = 0),
        credited_minor numeric NOT NULL DEFAULT 0 CONSTRAINT producer_funding_credited_whole CHECK (scale(credited_minor) = 0),
        deposits_minor numeric NOT NULL DEFAULT 0 CONSTRAINT producer_funding_deposits_whole CHECK (scale(deposits_minor) = 0),
        chargebacks_minor numeric NOT NULL DEFAULT 0 CONSTRAINT producer_funding_chargebacks_whole CHECK (scale(chargebacks_minor) = 0),
        PRIMARY KEY (producer, asset)
      )`);
    await queryRunner.query(`
      CREATE TABLE producer_credits (
        account text COLLATE "C" NOT NULL,
        producer text COLLATE "C" NOT NULL,
        asset text COLLATE "C" NOT NULL,
        credited_minor numeric NOT NULL CONSTRAINT producer_credits_whole CHECK (scale(credited_minor) = 0),
        PRIMARY KEY (account, producer, asset)
      )`);
    // Decisions already applied: under producer '' (see above). Their credits are their entries after the
    // consumer's debit (posting 0 of a decision's transaction, whose id is the inference id).
    await queryRunner.query(`
      INSERT INTO producer_funding (producer, asset, fees_minor, credited_minor)
      SELECT '', asset, sum(fee_minor), sum(fee_minor) FROM inferences GROUP BY asset`);
    await queryRunner.query(`
      INSERT INTO producer_credits (account, producer, asset, credited_minor)
      SELECT e.account, '', e.asset, sum(e.amount_minor)
        FROM ledger_entries e JOIN inferences i ON i.inference_id = e.transaction_id AND i.source_topic = e.source_topic
       WHERE e.posting_index > 0
       GROUP BY e.account, e.asset`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE producer_credits');
    await queryRunner.query('DROP TABLE producer_funding');
  }
}
