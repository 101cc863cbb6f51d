// Proves the catalog says each schema's registry id where the ids are known, and carries none without them,
// by building it with and without a fingerprint -> id map.
import { schemaCatalogEntries } from './schema-catalog';

describe('schemaCatalogEntries', () => {
  it('carries no registryId when no registry ids are given', () => {
    for (const entry of schemaCatalogEntries()) expect(entry).not.toHaveProperty('registryId');
  });

  it('says the registry id of each schema whose fingerprint the map holds, and only of those', () => {
    const [first, second, ...rest] = schemaCatalogEntries();
    const ids = new Map([
      [first!.fingerprint, 7],
      [second!.fingerprint, 12],
    ]);
    const entries = schemaCatalogEntries(ids);
    expect(entries[0]).toEqual({ ...first, registryId: 7 });
    expect(entries[1]).toEqual({ ...second, registryId: 12 });
    expect(entries.slice(2)).toEqual(rest);
  });
});
