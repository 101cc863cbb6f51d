// Proves the ledger-api's owner step (its migration and the reader's grants) completes on a fresh
// database while the ledger projector creates the read model's tables at the same moment, as `npm
// start` starts them: the two may deadlock in PostgreSQL or update one catalog row at once, and the side
// that lost (the owner step, or a projector migration) then runs again instead of failing the service's
// start. Real PostgreSQL, several fresh databases.
import { Client } from 'pg';
import { ensureSchema, initializeDataSource } from '@tributary/persistence';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import { dataSourceOptions } from '../../ledger-projector/src/database/data-source-options';
import { runOwnerStep } from '../src/database/owner-step';

const READER_ROLE = 'tributary_ledger_reader_race';
const ROUNDS = 4;

describe('the owner step beside the projector on a fresh database', () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const database of databases) await database.drop();
  });

  it('grants the reader the read model every time, however the two interleave', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const database = await createTestDatabase('owner_step_race');
      databases.push(database);
      await ensureSchema(database.url, 'ledger');
      await Promise.all([
        // As the projector's module starts it: its migrations run again if they lost a race with the grants.
        initializeDataSource(dataSourceOptions(database.url, 2)).then((projector) => projector.destroy()),
        runOwnerStep({ ownerDatabaseUrl: database.url, readerRole: READER_ROLE, readerPassword: 'race' }),
      ]);
      // A grant that ran before a table existed is covered by the schema's default privileges.
      const url = new URL(database.url);
      url.username = READER_ROLE;
      url.password = 'race';
      const reader = new Client({ connectionString: url.toString() });
      await reader.connect();
      try {
        const rows = await reader.query('SELECT count(*)::int AS n FROM ledger.ledger_entries');
        expect(rows.rows[0].n).toBe(0);
      } finally {
        await reader.end();
      }
    }
  }, 180_000);
});
