import { lockedRow } from './locked-row';

/** A manager over one optional row: the insert makes it, each query is recorded. */
function fakeManager(initial: { next_offset: string } | null) {
  let row = initial;
  const queries: string[] = [];
  return {
    queries,
    manager: {
      query: async (sql: string) => {
        queries.push(sql.split(' ')[0]!);
        if (sql.startsWith('INSERT')) row ??= { next_offset: '0' };
        return sql.startsWith('SELECT') && row !== null ? [row] : [];
      },
    },
  };
}

describe('lockedRow', () => {
  const select = 'SELECT next_offset FROM t WHERE k = $1 FOR UPDATE';
  const insert = 'INSERT INTO t (k, next_offset) VALUES ($1, 0) ON CONFLICT (k) DO NOTHING';

  it('takes one round trip when the row exists', async () => {
    const { manager, queries } = fakeManager({ next_offset: '42' });
    await expect(lockedRow(manager, select, insert, ['k'])).resolves.toEqual({ next_offset: '42' });
    expect(queries).toEqual(['SELECT']);
  });

  it("makes the row on a partition's first batch, then locks it", async () => {
    const { manager, queries } = fakeManager(null);
    await expect(lockedRow(manager, select, insert, ['k'])).resolves.toEqual({ next_offset: '0' });
    expect(queries).toEqual(['SELECT', 'INSERT', 'SELECT']);
  });
});
