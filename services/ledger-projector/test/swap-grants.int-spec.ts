// A swap renames a rebuilt schema to `ledger`; grants belong to objects, not names, so `swap` copies the live
// ledger's grants onto the rebuilt schema first (copySchemaGrants). Here on a real database: the projector's
// and the payouts service's roles keep exactly their access across the rename.
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { copySchemaGrants, ensureSchema, runOwnerStep, serviceDatabaseConfig } from '@tributary/persistence';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import { dataSourceOptions, ownerMigrations } from '../src/database/data-source-options';
import { ownerMigrations as payoutsMigrations } from '../../payouts/src/database/data-source-options';

describe("a swap keeps the services' grants on the ledger", () => {
  let database: TestDatabase;
  let sql: Client;
  const rebuilt = 'ledger_rebuild_grants';

  beforeAll(async () => {
    database = await createTestDatabase('swap_grants');
    const env = { DATABASE_URL: database.url };
    await runOwnerStep(database.url, serviceDatabaseConfig('ledger-projector', env), ownerMigrations);
    await runOwnerStep(database.url, serviceDatabaseConfig('payouts', env), payoutsMigrations);
    // The rebuilt schema, made as `rebuild` makes it: the owner's connection, the same migrations.
    await ensureSchema(database.url, rebuilt);
    await (await new DataSource(dataSourceOptions(database.url, 1, rebuilt)).initialize()).destroy();
    sql = new Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });

  const privileges = async (role: string, schema: string) => {
    const { rows } = await sql.query<{ usage: boolean; select: boolean; insert: boolean; create: boolean }>(
      `SELECT has_schema_privilege($1, $2, 'USAGE') AS usage, has_schema_privilege($1, $2, 'CREATE') AS create,
              has_table_privilege($1, $2 || '.accounts', 'SELECT') AS select,
              has_table_privilege($1, $2 || '.accounts', 'INSERT') AS insert`,
      [role, schema],
    );
    return rows[0];
  };

  it('gives the rebuilt schema the live one’s grants, and nothing more', async () => {
    const before = {
      projector: await privileges('tributary_ledger_projector', 'ledger'),
      payouts: await privileges('tributary_payouts', 'ledger'),
    };
    expect(before).toEqual({
      projector: { usage: true, select: true, insert: true, create: false },
      payouts: { usage: true, select: true, insert: false, create: false },
    });
    expect(await privileges('tributary_payouts', rebuilt)).toMatchObject({ usage: false, select: false });

    await sql.query('BEGIN');
    await copySchemaGrants(sql, 'ledger', rebuilt);
    await sql.query('ALTER SCHEMA ledger RENAME TO ledger_retired_grants');
    await sql.query(`ALTER SCHEMA ${rebuilt} RENAME TO ledger`);
    await sql.query('COMMIT');

    expect({
      projector: await privileges('tributary_ledger_projector', 'ledger'),
      payouts: await privileges('tributary_payouts', 'ledger'),
    }).toEqual(before);
  });
});
