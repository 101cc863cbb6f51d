// Proves that the decider's version cache answers like a fresh query of the versions visible up to T: with a fake query over an in-memory version log, it returns the same versions per key for rising and repeated T, asks only for what it lacks, and stays correct after it starts over at its size bound.
import type { EntityKind, EntityVersion } from '@tributary/attribution';
import { entityKey } from '@tributary/attribution';
import { VersionCache } from '../src/decision/version-cache';

function version(id: string, visibleFromMs: number, offset: number): EntityVersion {
  return {
    entity: 'contribution',
    id,
    partition: 0,
    offset: BigInt(offset),
    visibleFromMs,
    state: { contributionId: id, datanetId: 'd', contributor: 'c', status: 'ACCEPTED', revoked: false },
  };
}

const log = [version('a', 10, 0), version('b', 10, 1), version('a', 20, 2), version('b', 30, 3), version('a', 40, 4)];

function fakeQuery() {
  const calls: Array<{ keys: Array<{ entity: EntityKind; id: string; afterMs?: number }>; asOfMaxMs: number }> = [];
  const query = async (
    keys: ReadonlyArray<{ entity: EntityKind; id: string; afterMs?: number }>,
    asOfMaxMs: number,
  ) => {
    calls.push({ keys: [...keys], asOfMaxMs });
    const grouped = new Map<string, EntityVersion[]>();
    for (const key of keys) {
      const found = log.filter(
        (v) =>
          v.id === key.id && v.visibleFromMs <= asOfMaxMs && v.visibleFromMs > (key.afterMs ?? Number.MIN_SAFE_INTEGER),
      );
      if (found.length > 0) grouped.set(entityKey(key.entity, key.id), found);
    }
    return grouped;
  };
  return { calls, query };
}

const keys = [
  { entity: 'contribution' as const, id: 'a' },
  { entity: 'contribution' as const, id: 'b' },
];
const offsets = (result: Map<string, readonly EntityVersion[]>, id: string) =>
  (result.get(entityKey('contribution', id)) ?? []).map((v) => Number(v.offset)).sort();

describe('VersionCache', () => {
  it('returns every version visible up to T, querying only the range it lacks', async () => {
    const { calls, query } = fakeQuery();
    const cache = new VersionCache(query);
    const first = await cache.versions(keys, 20);
    expect(offsets(first, 'a')).toEqual([0, 2]);
    expect(offsets(first, 'b')).toEqual([1]);
    const again = await cache.versions(keys, 15);
    expect(offsets(again, 'a')).toEqual([0, 2]);
    expect(calls).toHaveLength(1);
    const later = await cache.versions(keys, 40);
    expect(offsets(later, 'a')).toEqual([0, 2, 4]);
    expect(offsets(later, 'b')).toEqual([1, 3]);
    expect(calls[1]!.keys.map((key) => key.afterMs)).toEqual([20, 20]);
  });

  it('stays correct when it starts over at its bound and when batches overlap', async () => {
    const { query } = fakeQuery();
    const cache = new VersionCache(query, 1);
    const [low, high] = await Promise.all([cache.versions(keys, 20), cache.versions(keys, 40)]);
    expect(offsets(low, 'a')).toEqual([0, 2]);
    expect(offsets(high, 'a')).toEqual([0, 2, 4]);
    const after = await cache.versions(keys, 30);
    expect(offsets(after, 'a')).toEqual([0, 2, 4]);
    expect(offsets(after, 'b')).toEqual([1, 3]);
  });
});
