import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The schema this service owns: its migrations table and the grant functions below, nothing else. */
export const LEDGER_API_SCHEMA = 'ledger_api';
/** The schema the API reads: the projector's live read model (a swap renames another schema to it). */
export const READ_MODEL_SCHEMA = 'ledger';

/**
 * Creates the read-only role and keeps its grants on the read model. The role name comes from
 * configuration, so the migration class is built for it; the role name is checked against ROLE_NAME
 * before it reaches here and is quoted with format(%I) inside PostgreSQL as well.
 *
 * Why an event trigger: the projector's `swap` promotes a rebuilt schema by renaming it to `ledger`.
 * Grants belong to the schema and table objects, not to the name, so after a swap the new `ledger`
 * would have none. Global default privileges would fix that too, but would also let the reader see
 * every other service's tables (the gateway's API keys among them). The trigger re-grants on exactly
 * the schema named `ledger`, inside the transaction of the DDL that created or renamed it, so there is
 * no moment when the live ledger is unreadable. Creating an event trigger needs a superuser; without
 * one the migration warns and the operator re-grants after a swap with `npm run ledger-api -- grant`.
 */
export function createLedgerReaderMigration(role: string) {
  return class CreateLedgerReader1764000000800 implements MigrationInterface {
    readonly name = 'CreateLedgerReader1764000000800';

    async up(queryRunner: QueryRunner): Promise<void> {
      // Roles are cluster-wide: several databases (or test files) may race to create the same one.
      await queryRunner.query(`
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(role)}) THEN
            EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION', ${literal(role)});
          END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$`);
      // A second wall behind the grants: every session of the role starts read-only.
      await queryRunner.query(`ALTER ROLE ${identifier(role)} SET default_transaction_read_only = on`);
      await queryRunner.query(`
        CREATE OR REPLACE FUNCTION ${LEDGER_API_SCHEMA}.grant_ledger_reader() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '${READ_MODEL_SCHEMA}') THEN
            EXECUTE format('GRANT USAGE ON SCHEMA ${READ_MODEL_SCHEMA} TO %I', ${literal(role)});
            EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA ${READ_MODEL_SCHEMA} TO %I', ${literal(role)});
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA ${READ_MODEL_SCHEMA} GRANT SELECT ON TABLES TO %I', ${literal(role)});
          END IF;
        END $$`);
      // The trigger must never break another service's DDL: a failure to grant is a warning.
      await queryRunner.query(`
        CREATE OR REPLACE FUNCTION ${LEDGER_API_SCHEMA}.grant_ledger_reader_on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM ${LEDGER_API_SCHEMA}.grant_ledger_reader();
        EXCEPTION WHEN OTHERS THEN
          RAISE WARNING 'ledger-api: could not re-grant the ledger reader: %', SQLERRM;
        END $$`);
      await queryRunner.query(`
        DO $$ BEGIN
          DROP EVENT TRIGGER IF EXISTS ledger_api_reader_grants;
          CREATE EVENT TRIGGER ledger_api_reader_grants ON ddl_command_end
            WHEN TAG IN ('CREATE SCHEMA', 'ALTER SCHEMA')
            EXECUTE FUNCTION ${LEDGER_API_SCHEMA}.grant_ledger_reader_on_ddl();
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE WARNING 'ledger-api: no event trigger (needs a superuser); run "npm run ledger-api -- grant" after every ledger swap';
        END $$`);
      await queryRunner.query(`SELECT ${LEDGER_API_SCHEMA}.grant_ledger_reader()`);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query('DROP EVENT TRIGGER IF EXISTS ledger_api_reader_grants');
      await queryRunner.query(`DROP FUNCTION IF EXISTS ${LEDGER_API_SCHEMA}.grant_ledger_reader_on_ddl()`);
      await queryRunner.query(`DROP FUNCTION IF EXISTS ${LEDGER_API_SCHEMA}.grant_ledger_reader()`);
    }
  };
}

/** A SQL string literal; the role name was already held to [a-z0-9_], this is the second check. */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function identifier(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}
