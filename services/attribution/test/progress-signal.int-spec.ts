// Proves the decider's wake-up on table progress against a real PostgreSQL: a fold's NOTIFY reaches a
// waiting TableProgressSignal when its transaction commits, never when it rolls back, a notification
// that arrived between reading the generation and waiting is not lost, and a listener whose session was
// killed by the server comes back by itself.
import { Client } from 'pg';
import { createTestDatabase, eventually, type TestDatabase } from '@tributary/testing';
import { TABLE_PROGRESS_CHANNEL, TableProgressSignal } from '../src/state/progress-signal';

/** Long enough that a wait ending before it was woken, not timed out. */
const WAIT_MS = 20_000;

describe('TableProgressSignal', () => {
  let database: TestDatabase;
  let fold: Client;
  let signal: TableProgressSignal;

  const foldCommits = async (outcome: 'COMMIT' | 'ROLLBACK') => {
    await fold.query('BEGIN');
    await fold.query('SELECT pg_notify($1, $2)', [TABLE_PROGRESS_CHANNEL, '']);
    await fold.query(outcome);
  };
  const timed = async (wait: Promise<void>) => {
    const startedMs = Date.now();
    await wait;
    return Date.now() - startedMs;
  };

  beforeAll(async () => {
    database = await createTestDatabase('progress_signal');
    fold = new Client({ connectionString: database.url });
    await fold.connect();
    signal = new TableProgressSignal(database.url);
    await signal.start();
  });

  afterAll(async () => {
    await signal?.stop();
    await fold?.end();
    await database?.drop();
  });

  it('wakes a wait when the fold commits, not when it rolls back', async () => {
    const before = signal.generation();
    const rolledBack = timed(signal.changedSince(before, 1_000));
    await foldCommits('ROLLBACK');
    expect(await rolledBack).toBeGreaterThanOrEqual(900);
    expect(signal.generation()).toBe(before);

    const committed = timed(signal.changedSince(before, WAIT_MS));
    await foldCommits('COMMIT');
    expect(await committed).toBeLessThan(WAIT_MS);
    expect(signal.generation()).toBe(before + 1);
  });

  it('returns at once for a commit heard after the generation was read', async () => {
    const before = signal.generation();
    await foldCommits('COMMIT');
    await eventually(() => expect(signal.generation()).toBeGreaterThan(before));
    expect(await timed(signal.changedSince(before, WAIT_MS))).toBeLessThan(WAIT_MS);
  });

  it('listens again after the server ended its session', async () => {
    await fold.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'attribution-listen' AND datname = current_database()",
    );
    await eventually(async () => {
      const before = signal.generation();
      await foldCommits('COMMIT');
      await signal.changedSince(before, 500);
      expect(signal.generation()).toBeGreaterThan(before);
    }, 15_000);
  });
});
