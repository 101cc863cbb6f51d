// Proves a batch's decision transaction against a real PostgreSQL, opened before its table wait ends:
// the partition's claim is locked from `begin` on, so no other holder stores a decision of the partition
// while the batch waits; an abandoned batch (its table wait failed) leaves no row, no lock and no
// connection behind; a takeover waits for the batch holding the claim, and the old holder's next batch
// fails with ClaimLost; and
// the ids decided before reach the batch's decision.
import { DataSource } from 'typeorm';
import { Client } from 'pg';
import { ensureSchema } from '@tributary/persistence';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import { ATTRIBUTION_SCHEMA, dataSourceOptions } from '../src/database/data-source-options';
import { ClaimLost, DecisionStore, type DecisionRow } from '../src/decision/decision-store';

const PARTITION = 3;
const CLAIM = 'claim-1';

function row(inferenceId: string, offset: bigint): DecisionRow {
  return {
    inferenceId,
    inferenceOffset: offset,
    eventId: `attributed:${inferenceId}`,
    method: 'm',
    value: Buffer.from([1]),
    headers: { ce_id: `attributed:${inferenceId}` },
    contentHash: Buffer.alloc(32, 1),
  };
}

describe('a batch decision transaction opened before the table wait ends', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: DecisionStore;
  let other: Client;

  /** Whether another session can lock the partition's claim row now. */
  const claimFree = async () => {
    await other.query('BEGIN');
    try {
      await other.query(`SELECT 1 FROM ${ATTRIBUTION_SCHEMA}.partition_claims WHERE partition = $1 FOR UPDATE NOWAIT`, [
        PARTITION,
      ]);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') return false;
      throw error;
    } finally {
      await other.query('ROLLBACK');
    }
  };
  const storedIds = async () =>
    (
      await dataSource.query<Array<{ inference_id: string }>>(
        'SELECT inference_id FROM decisions WHERE inference_partition = $1 ORDER BY inference_id',
        [PARTITION],
      )
    ).map(({ inference_id }) => inference_id);

  beforeAll(async () => {
    database = await createTestDatabase('decision_store');
    await ensureSchema(database.url, ATTRIBUTION_SCHEMA);
    // Two connections: a batch that left one held would leave the next queries one, and they run two at once.
    dataSource = await new DataSource(dataSourceOptions(database.url, 2)).initialize();
    store = new DecisionStore(dataSource);
    other = new Client({ connectionString: database.url });
    await other.connect();
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM decisions');
    await store.claim(PARTITION, CLAIM, null);
  });

  afterAll(async () => {
    await other?.end();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('holds the claim from begin, and stores the decided rows, knowing the ids decided before', async () => {
    const first = store.begin(PARTITION, CLAIM, ['inference-a']);
    await (
      await first.decide(() => ({ rows: [row('inference-a', 1n)], result: 'first' }))
    ).stored;

    const pending = store.begin(PARTITION, CLAIM, ['inference-a', 'inference-b']);
    // The batch still waits for the tables: the claim is locked already (once its first statement ran).
    for (let attempt = 0; attempt < 100 && (await claimFree()); attempt += 1)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await claimFree()).toBe(false);

    let seen: string[] = [];
    const { result, stored } = await pending.decide((alreadyDecided) => {
      seen = [...alreadyDecided.keys()];
      return { rows: [row('inference-b', 2n)], result: 'second' };
    });
    expect(result).toBe('second');
    expect(seen).toEqual(['inference-a']);
    await stored;
    expect(await storedIds()).toEqual(['inference-a', 'inference-b']);
    expect(await claimFree()).toBe(true);
  });

  it('leaves no row, no lock and no connection behind when abandoned', async () => {
    const pending = store.begin(PARTITION, CLAIM, ['inference-c']);
    await pending.abandon();
    expect(await claimFree()).toBe(true);
    expect(await storedIds()).toEqual([]);
    // Both pooled connections are free: two transactions holding one each run at once.
    const both = [store.begin(PARTITION + 1, CLAIM, ['x']), store.begin(PARTITION + 2, CLAIM, ['y'])];
    // Neither partition is claimed by CLAIM, so each fails its decision, having held its connection.
    await Promise.all(
      both.map((batch) => expect(batch.decide(() => ({ rows: [], result: null }))).rejects.toThrow(ClaimLost)),
    );
  });

  it('makes a takeover wait for the batch holding the claim, and fails the next batch of the old holder', async () => {
    const pending = store.begin(PARTITION, CLAIM, ['inference-d']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The new holder's claim waits for the lock the batch holds.
    const takeover = store.claim(PARTITION, 'claim-2', null);
    const decided = pending.decide(() => ({ rows: [row('inference-d', 4n)], result: null }));
    await (
      await decided
    ).stored;
    await takeover;
    // The takeover came after the batch: its rows stay (the new holder's claim deletes only past the
    // committed offset, none here, so all of them), and the next batch under the old claim is refused.
    const zombie = store.begin(PARTITION, CLAIM, ['inference-e']);
    await expect(zombie.decide(() => ({ rows: [row('inference-e', 5n)], result: null }))).rejects.toThrow(ClaimLost);
    expect(await storedIds()).toEqual([]);
  });
});
