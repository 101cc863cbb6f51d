// Proves, on the real PostgreSQL, the offset store's exactly-once: a batch's records are applied once
// whoever else holds the partition at the same time, a re-delivery applies only what is fresh, and both
// hold on a database whose default isolation is SERIALIZABLE, because every connection the services
// open runs READ COMMITTED (postgresOptions) without spending a statement on it.
import { Client } from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { InboundBatch, type InboundRecord } from '@tributary/messaging';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import { CreateConsumerOffsets1764000000000, PostgresOffsetStore, postgresOptions } from '../src';

const GROUP = 'offset-store-spec';
const TOPIC = 'spec.topic';

function record(offset: number): InboundRecord {
  return { topic: TOPIC, partition: 0, offset: String(offset), key: null, value: null, headers: {}, timestampMs: 0 };
}

function batchOf(offsets: readonly number[]): InboundBatch {
  return new InboundBatch(GROUP, TOPIC, 0, offsets.map(record), async () => undefined);
}

describe('the offset store on a database whose default isolation is SERIALIZABLE', () => {
  let database: TestDatabase;
  const sources: DataSource[] = [];

  const dataSource = async () => {
    const source = await new DataSource({
      ...postgresOptions({
        url: database.url,
        schema: 'public',
        entities: [],
        migrations: [CreateConsumerOffsets1764000000000],
        poolSizeMax: 4,
      }),
      logging: ['error'],
    }).initialize();
    sources.push(source);
    return source;
  };

  beforeAll(async () => {
    database = await createTestDatabase('offset_store');
    const admin = new Client({ connectionString: database.url });
    await admin.connect();
    const name = new URL(database.url).pathname.slice(1);
    await admin.query(`ALTER DATABASE ${name} SET default_transaction_isolation = 'serializable'`);
    await admin.end();
  });

  afterAll(async () => {
    await Promise.all(sources.map((source) => source.destroy()));
    await database?.drop();
  });

  it('runs every transaction of the services READ COMMITTED', async () => {
    const source = await dataSource();
    const level = await source.transaction(
      async (manager) =>
        (await manager.query<Array<{ transaction_isolation: string }>>('SHOW transaction_isolation'))[0]!
          .transaction_isolation,
    );
    expect(level).toBe('read committed');
    // The database's own default is still the one set above: only the services' sessions choose.
    const plain = new Client({ connectionString: database.url });
    await plain.connect();
    const rows = (await plain.query('SHOW default_transaction_isolation')).rows as Array<Record<string, string>>;
    await plain.end();
    expect(rows[0]!.default_transaction_isolation).toBe('serializable');
  });

  it('applies a batch once when two holders of the partition run it at the same time', async () => {
    const [first, second] = [new PostgresOffsetStore(await dataSource()), new PostgresOffsetStore(await dataSource())];
    const applied: string[][] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const apply =
      (who: string, wait: Promise<void>) => async (_manager: EntityManager, records: readonly InboundRecord[]) => {
        applied.push([who, ...records.map((r) => r.offset)]);
        await wait;
      };
    // The first holder locks the partition's row (created by this first batch) and keeps it while the
    // second starts: the second waits for the lock, then finds every record applied.
    const one = first.runExactlyOnce(batchOf([0, 1, 2]), apply('first', held));
    while (applied.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const two = second.runExactlyOnce(batchOf([0, 1, 2]), apply('second', Promise.resolve()));
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    expect(await one).toEqual({ appliedCount: 3 });
    expect(await two).toEqual({ appliedCount: 0 });
    expect(applied).toEqual([['first', '0', '1', '2']]);

    // A re-delivery overlapping what was applied applies only the fresh records, and moves the offset on.
    const again = await second.runExactlyOnce(batchOf([1, 2, 3, 4]), apply('again', Promise.resolve()));
    expect(again).toEqual({ appliedCount: 2 });
    expect(applied.at(-1)).toEqual(['again', '3', '4']);
    expect(await first.load(GROUP, [TOPIC])).toEqual([{ topic: TOPIC, partition: 0, offset: '5' }]);
  });
});
