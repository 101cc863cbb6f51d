import { entityKey, type EntityKind, type EntityVersion } from '@tributary/attribution';

/** Bounds the memory of the cache: past it the cache starts over (correct, only slower). */
export const VERSION_CACHE_ENTRIES_MAX = 50_000;

interface Entry {
  /** Every version of the entity with visibleFromMs <= completeToMs (and maybe later ones). Never mutated. */
  readonly versions: readonly EntityVersion[];
  readonly completeToMs: number;
}

export type VersionQuery = (
  keys: ReadonlyArray<{ entity: EntityKind; id: string; afterMs?: number }>,
  asOfMaxMs: number,
) => Promise<Map<string, EntityVersion[]>>;

/**
 * The entity versions the decider read before, so a batch queries PostgreSQL only for what it lacks.
 *
 * Why this is safe: the decider reads versions only after the ordering rule said every table partition
 * passed the batch's time T, and from then on no version with visibleFromMs <= T can still appear
 * (visibleFromMs is the partition's running-maximum timestamp). So a list read up to T stays complete up
 * to T; a later batch with a later T asks only for the versions visible in (completeToMs, T]. Versions
 * are immutable rows; `rebuild-state` needs every instance stopped, which empties this cache too.
 */
export class VersionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly query: VersionQuery,
    private readonly entriesMax = VERSION_CACHE_ENTRIES_MAX,
  ) {}

  /** The versions held of one entity, complete or not (none when the cache holds none). */
  held(entity: EntityKind, id: string): readonly EntityVersion[] {
    return this.entries.get(entityKey(entity, id))?.versions ?? [];
  }

  /** Every version visible at or before asOfMaxMs of each key (call only once the tables passed asOfMaxMs). */
  async versions(
    keys: ReadonlyArray<{ entity: EntityKind; id: string }>,
    asOfMaxMs: number,
  ): Promise<Map<string, readonly EntityVersion[]>> {
    const result = new Map<string, readonly EntityVersion[]>();
    const stale: Array<{ entity: EntityKind; id: string; afterMs?: number; key: string; held: Entry | undefined }> = [];
    for (const { entity, id } of keys) {
      const key = entityKey(entity, id);
      const held = this.entries.get(key);
      if (held !== undefined && held.completeToMs >= asOfMaxMs) result.set(key, held.versions);
      else stale.push({ entity, id, key, held, ...(held === undefined ? {} : { afterMs: held.completeToMs }) });
    }
    if (stale.length === 0) return result;
    const fresh = await this.query(
      stale.map(({ entity, id, afterMs }) => (afterMs === undefined ? { entity, id } : { entity, id, afterMs })),
      asOfMaxMs,
    );
    if (this.entries.size + stale.length > this.entriesMax) this.entries.clear();
    for (const { key, held } of stale) {
      // Built from the entry this query extended, not the current one: concurrent batches replace entries.
      const versions = [...(held?.versions ?? []), ...(fresh.get(key) ?? [])];
      result.set(key, versions);
      const current = this.entries.get(key);
      if (current === undefined || current.completeToMs < asOfMaxMs)
        this.entries.set(key, { versions, completeToMs: asOfMaxMs });
    }
    return result;
  }
}
