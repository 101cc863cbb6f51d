// Proves the HTTP schema catalog lists and serves each schema's registry id when the gateway registered the
// schemas, and works unchanged without a registry, by calling the controller with and without the id map.
import { schemaCatalogEntries } from '@tributary/contracts';
import { SchemaCatalogController } from './schema-catalog.controller';

describe('SchemaCatalogController', () => {
  const entries = schemaCatalogEntries();
  const ids = new Map(entries.map((entry, index) => [entry.fingerprint, index + 1]));

  it('says each schema’s registry id in the list and by fingerprint', () => {
    const controller = new SchemaCatalogController(ids);
    expect(controller.list().map((summary) => summary.registryId)).toEqual(entries.map((_entry, index) => index + 1));
    expect(controller.byFingerprintOf(entries[0]!.fingerprint).registryId).toBe(1);
  });

  it('serves the catalog without ids when no registry runs', () => {
    const controller = new SchemaCatalogController();
    expect(controller.list()).toHaveLength(entries.length);
    expect(controller.byFingerprintOf(entries[0]!.fingerprint)).not.toHaveProperty('registryId');
  });
});
