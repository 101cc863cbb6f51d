import type { EntityManager } from 'typeorm';

/**
 * A position row (a stored offset, a fold's progress) read and locked for the rest of the transaction,
 * made first from `insert` when the partition has none yet. `select` ends in FOR UPDATE and `insert` in
 * ON CONFLICT DO NOTHING, both with `parameters`. Every batch but a partition's first takes one round
 * trip: on the hot path of each consumer, the insert-then-select it replaces took two.
 */
export async function lockedRow<Row>(
  manager: Pick<EntityManager, 'query'>,
  select: string,
  insert: string,
  parameters: readonly unknown[],
): Promise<Row> {
  const rows: Row[] = await manager.query(select, [...parameters]);
  if (rows.length > 0) return rows[0]!;
  await manager.query(insert, [...parameters]);
  const made: Row[] = await manager.query(select, [...parameters]);
  if (made.length === 0) throw new Error(`no row after its insert: ${select}`);
  return made[0]!;
}
