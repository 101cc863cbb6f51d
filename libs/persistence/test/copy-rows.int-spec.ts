// Proves, on the real PostgreSQL, that a COPY whose rows are sent with the statement (copyEncoded) lands
// every row, fails with the server's error when the statement or a row is refused, and leaves the
// connection in step either way: the next statement on it gets its own answer, not a stale one. Several
// tables' COPYs sent together (copyEncodedTogether) land each table's rows in one round trip, and a
// refused one fails them all and leaves the connection in step too.
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import { copyEncoded, copyEncodedTogether, CopyEncoder, postgresOptions, type CopyColumn } from '../src';

const COLUMNS: readonly CopyColumn[] = [
  { name: 'id', type: 'text' },
  { name: 'amount', type: 'int8' },
  { name: 'position', type: 'int4' },
  { name: 'hash', type: 'bytea' },
];

function encoderOf(rows: ReadonlyArray<readonly [string, bigint, number, Buffer]>): CopyEncoder {
  const encoder = new CopyEncoder(COLUMNS);
  for (const [id, amount, position, hash] of rows) encoder.row().text(id).int8(amount).int4(position).bytea(hash);
  return encoder;
}

describe('copyEncoded on the real PostgreSQL', () => {
  let database: TestDatabase;
  let source: DataSource;

  const countRows = async () =>
    Number((await source.query<Array<{ n: string }>>('SELECT count(*) AS n FROM copied'))[0]!.n);

  beforeAll(async () => {
    database = await createTestDatabase('copy_rows');
    source = await new DataSource({
      // One connection: every test below reuses the connection an earlier COPY ran on.
      ...postgresOptions({ url: database.url, schema: 'public', entities: [], migrations: [], poolSizeMax: 1 }),
      logging: ['error'],
    }).initialize();
    await source.query(
      'CREATE TABLE copied (id text PRIMARY KEY, amount bigint NOT NULL, position int NOT NULL, hash bytea NOT NULL)',
    );
    await source.query('CREATE TABLE copied_too (LIKE copied INCLUDING ALL)');
  });

  afterAll(async () => {
    await source?.destroy();
    await database?.drop();
  });

  beforeEach(() => source.query('TRUNCATE copied, copied_too'));

  it('lands every row of the transaction, values exact', async () => {
    const rows = [
      ['inf-1', 9_223_372_036_854_775_807n, 7, Buffer.from('00ff10', 'hex')],
      ['données-ü', -42n, 0, Buffer.alloc(0)],
    ] as const;
    await source.transaction((manager) => copyEncoded(manager, 'copied', encoderOf(rows)));
    expect(
      await source.query('SELECT id, amount::text, position, encode(hash, $1) AS hash FROM copied ORDER BY id', [
        'hex',
      ]),
    ).toEqual([
      { id: 'données-ü', amount: '-42', position: 0, hash: '' },
      { id: 'inf-1', amount: '9223372036854775807', position: 7, hash: '00ff10' },
    ]);
  });

  it('sends the rows and the end of the data before the server has answered the statement: one round trip', async () => {
    const events: string[] = [];
    await source.transaction(async (manager) => {
      const client = (await manager.queryRunner!.connect()) as {
        connection: {
          stream: { write: (...args: unknown[]) => boolean };
          prependListener(event: string, listener: () => void): void;
        };
      };
      const { stream } = client.connection;
      const write = stream.write;
      const listener = () => events.push('server: CopyInResponse');
      // Before node-postgres's own listener, which hands the answer to the running COPY.
      client.connection.prependListener('copyInResponse', listener);
      stream.write = (...args: unknown[]) => {
        const chunk = args[0] as Buffer;
        events.push(`client: ${String.fromCharCode(chunk[0]!)}`);
        return write.apply(stream, args);
      };
      try {
        await copyEncoded(manager, 'copied', encoderOf([['one', 1n, 1, Buffer.alloc(1)]]));
      } finally {
        stream.write = write;
        (client.connection as unknown as NodeJS.EventEmitter).off('copyInResponse', listener);
      }
    });
    // Q the statement, d the CopyData header, the rows, c CopyDone: all written before the answer came.
    expect(events.indexOf('client: c')).toBeGreaterThan(-1);
    expect(events.indexOf('client: c')).toBeLessThan(events.indexOf('server: CopyInResponse'));
    expect(await countRows()).toBe(1);
  });

  it('lands a COPY of several megabytes whole', async () => {
    const rows = Array.from(
      { length: 100_000 },
      (_, index) => [`row-${index}`, BigInt(index) * 1_000_000n, index, Buffer.alloc(32, index % 256)] as const,
    );
    await source.transaction((manager) => copyEncoded(manager, 'copied', encoderOf(rows)));
    expect(await countRows()).toBe(100_000);
    expect(
      await source.query<Array<{ amount: string }>>('SELECT amount::text AS amount FROM copied WHERE id = $1', [
        'row-99999',
      ]),
    ).toEqual([{ amount: '99999000000' }]);
  });

  it('fails with the error of a refused row, rolls the transaction back and keeps the connection in step', async () => {
    const duplicate = encoderOf([
      ['same', 1n, 1, Buffer.from('01', 'hex')],
      ['same', 2n, 2, Buffer.from('02', 'hex')],
    ]);
    await expect(source.transaction((manager) => copyEncoded(manager, 'copied', duplicate))).rejects.toThrow(
      /duplicate key value violates unique constraint/,
    );
    expect(await countRows()).toBe(0);
    await source.transaction((manager) =>
      copyEncoded(manager, 'copied', encoderOf([['after', 3n, 3, Buffer.alloc(1)]])),
    );
    expect(await source.query('SELECT id FROM copied')).toEqual([{ id: 'after' }]);
  });

  it('fails with the error of a refused statement; the server drops the data sent with it', async () => {
    // The statement fails before the server reads any data: its CopyData and CopyDone reach a connection
    // that is not copying, and must be dropped, not read as statements or answered out of turn.
    const rows = encoderOf([['never', 1n, 1, Buffer.from('SELECT 1;', 'utf8')]]);
    await expect(source.transaction((manager) => copyEncoded(manager, 'no_such_table', rows))).rejects.toThrow(
      /relation "no_such_table" does not exist/,
    );
    for (let round = 0; round < 3; round += 1) {
      expect(await source.query<Array<{ round: number }>>('SELECT $1::int AS round', [round])).toEqual([{ round }]);
    }
    await source.transaction((manager) =>
      copyEncoded(manager, 'copied', encoderOf([['next', 4n, 4, Buffer.alloc(1)]])),
    );
    expect(await countRows()).toBe(1);
  });

  describe('several tables together', () => {
    const ids = async (table: string) =>
      (await source.query<Array<{ id: string }>>(`SELECT id FROM ${table} ORDER BY id`)).map(({ id }) => id);

    it('lands the rows of each table, in one round trip, leaving out a table without rows', async () => {
      let queries = 0;
      await source.transaction(async (manager) => {
        const client = (await manager.queryRunner!.connect()) as { connection: NodeJS.EventEmitter };
        const counted = () => (queries += 1);
        client.connection.on('readyForQuery', counted);
        try {
          await copyEncodedTogether(manager, [
            { table: 'copied', encoder: encoderOf([['a-1', 1n, 1, Buffer.alloc(1)]]) },
            { table: 'no_rows_so_never_named', encoder: encoderOf([]) },
            {
              table: 'copied_too',
              encoder: encoderOf([
                ['b-1', 2n, 2, Buffer.alloc(2)],
                ['b-2', 3n, 3, Buffer.alloc(3)],
              ]),
            },
          ]);
        } finally {
          client.connection.off('readyForQuery', counted);
        }
      });
      expect(queries).toBe(1);
      expect(await ids('copied')).toEqual(['a-1']);
      expect(await ids('copied_too')).toEqual(['b-1', 'b-2']);
    });

    it('fails all of them with the error of a refused row in the second, keeping the connection in step', async () => {
      const together = (second: CopyEncoder) =>
        source.transaction((manager) =>
          copyEncodedTogether(manager, [
            { table: 'copied', encoder: encoderOf([['first', 1n, 1, Buffer.alloc(1)]]) },
            { table: 'copied_too', encoder: second },
            { table: 'copied', encoder: encoderOf([['third', 3n, 3, Buffer.from('SELECT 1;', 'utf8')]]) },
          ]),
        );
      const duplicate = encoderOf([
        ['same', 1n, 1, Buffer.alloc(1)],
        ['same', 2n, 2, Buffer.alloc(1)],
      ]);
      await expect(together(duplicate)).rejects.toThrow(/duplicate key value violates unique constraint/);
      expect(await ids('copied')).toEqual([]);
      expect(await ids('copied_too')).toEqual([]);
      for (let round = 0; round < 3; round += 1) {
        expect(await source.query<Array<{ round: number }>>('SELECT $1::int AS round', [round])).toEqual([{ round }]);
      }
      await together(encoderOf([['second', 2n, 2, Buffer.alloc(1)]]));
      expect(await ids('copied')).toEqual(['first', 'third']);
      expect(await ids('copied_too')).toEqual(['second']);
    });
  });
});
