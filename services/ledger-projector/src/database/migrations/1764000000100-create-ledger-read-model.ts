import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger read model. Every table is unqualified: the connection's search_path names the schema,
 * so the same migration builds the live `ledger` schema and a rebuild's schema beside it.
 */
export class CreateLedgerReadModel1764000000100 implements MigrationInterface {
  readonly name = 'CreateLedgerReadModel1764000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    // One row per posting, immutable; hash-chained per source partition in chain_seq order.
    await queryRunner.query(`
      CREATE TABLE ledger_entries (
        source_topic     text     NOT NULL,
        source_partition integer  NOT NULL,
        chain_seq        bigint   NOT NULL CHECK (chain_seq > 0),
        transaction_id   text     NOT NULL,
        posting_index    smallint NOT NULL,
        account          text     NOT NULL,
        asset            text     NOT NULL,
        amount_minor     bigint   NOT NULL,
        source_event_id  text     NOT NULL,
        source_offset    bigint   NOT NULL,
        hash             bytea    NOT NULL,
        PRIMARY KEY (source_topic, source_partition, chain_seq)
      )`);
    await queryRunner.query('CREATE INDEX ledger_entries_account_idx ON ledger_entries (account, asset)');
    await queryRunner.query(`
      CREATE TABLE applied_events (
        event_id         text    PRIMARY KEY,
        source_topic     text    NOT NULL,
        source_partition integer NOT NULL,
        source_offset    bigint  NOT NULL
      )`);
    // Balances per (account, asset); role and owner derive from the account id.
    await queryRunner.query(`
      CREATE TABLE accounts (
        account       text    NOT NULL,
        asset         text    NOT NULL,
        role          text    NOT NULL,
        owner_id      text    NOT NULL,
        balance_minor bigint  NOT NULL,
        entry_count   bigint  NOT NULL,
        PRIMARY KEY (account, asset)
      )`);
    await queryRunner.query('CREATE INDEX accounts_owner_idx ON accounts (role, owner_id)');
    // Lineage: one row per attributed inference, and per contribution behind a contributor credit.
    await queryRunner.query(`
      CREATE TABLE inferences (
        inference_id       text    PRIMARY KEY,
        event_id           text    NOT NULL,
        inference_event_id text    NOT NULL,
        model_id           text    NOT NULL,
        consumer_id        text    NOT NULL,
        asset              text    NOT NULL,
        fee_minor          bigint  NOT NULL,
        policy_version     integer NOT NULL,
        source_topic       text    NOT NULL,
        source_partition   integer NOT NULL,
        source_offset      bigint  NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE contribution_credits (
        inference_id    text   NOT NULL,
        account         text   NOT NULL,
        contribution_id text   NOT NULL,
        datanet_id      text   NOT NULL,
        score_ppm       bigint NOT NULL,
        asset           text   NOT NULL,
        amount_minor    bigint NOT NULL,
        PRIMARY KEY (inference_id, account, contribution_id)
      )`);
    await queryRunner.query(
      'CREATE INDEX contribution_credits_contribution_idx ON contribution_credits (contribution_id)',
    );
    // Revenue per datanet, model and contributor, kept as running sums.
    await queryRunner.query(`
      CREATE TABLE revenue (
        dimension       text   NOT NULL CHECK (dimension IN ('datanet', 'model', 'contributor')),
        dimension_id    text   NOT NULL,
        asset           text   NOT NULL,
        revenue_minor   bigint NOT NULL,
        inference_count bigint NOT NULL,
        PRIMARY KEY (dimension, dimension_id, asset)
      )`);
    await queryRunner.query(`
      CREATE TABLE payouts (
        payout_id          text    PRIMARY KEY,
        account            text    NOT NULL,
        asset              text    NOT NULL,
        amount_minor       bigint  NOT NULL CHECK (amount_minor > 0),
        epoch              integer NOT NULL,
        status             text    NOT NULL CHECK (status IN ('REQUESTED', 'SETTLED', 'FAILED')),
        requested_event_id text    NOT NULL,
        ended_event_id     text,
        rail               text,
        reference          text,
        failure_reason     text
      )`);
    // The head of each partition's chain: the last chain_seq and hash, moved in the batch's transaction.
    await queryRunner.query(`
      CREATE TABLE checkpoints (
        source_topic     text        NOT NULL,
        source_partition integer     NOT NULL,
        chain_seq        bigint      NOT NULL,
        head_hash        bytea       NOT NULL,
        next_offset      bigint      NOT NULL,
        event_count      bigint      NOT NULL,
        updated_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source_topic, source_partition)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'checkpoints',
      'payouts',
      'revenue',
      'contribution_credits',
      'inferences',
      'accounts',
      'applied_events',
      'ledger_entries',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
