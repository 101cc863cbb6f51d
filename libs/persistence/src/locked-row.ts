/**
 * The rows of a statement that locks one row (SELECT ... FOR UPDATE, alone or in a WITH query), the row
 * created first where it is missing. A position row (a partition's offset, the table fold's progress) is
 * created by its partition's first batch only, so every later batch pays the one statement. `create` must
 * let a concurrent creator win (ON CONFLICT DO NOTHING); the lock is then taken again, and waits for
 * that creator's transaction if it still holds the row.
 */
export async function lockCreatingOnMiss<Row>(
  lock: () => Promise<Row[]>,
  create: () => Promise<unknown>,
): Promise<[Row, ...Row[]]> {
  let rows = await lock();
  if (rows.length === 0) {
    await create();
    rows = await lock();
  }
  if (rows.length === 0) throw new Error('lockCreatingOnMiss: the row was created, yet the lock found none');
  return rows as [Row, ...Row[]];
}
