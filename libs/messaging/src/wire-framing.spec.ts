// The start-up seam of the Confluent framing: a process with the registry's ids frames every record it
// writes from then on, one without writes raw, and a map that does not cover every writer schema stops it.
import {
  installedSchemaIds,
  schemaCatalogEntries,
  SchemaIdBookError,
  toRecord,
  uninstallSchemaIds,
} from '@tributary/contracts';
import { SAMPLE_EVENTS } from '../../contracts/src/schemas/sample-events.fixture';
import { installWireFraming, registrySchemaIds } from './wire-framing';

const ids = new Map(schemaCatalogEntries().map((entry, index) => [entry.fingerprint, 40 + index]));
const contentType = () =>
  toRecord('FundsDeposited', SAMPLE_EVENTS.FundsDeposited, { source: 'urn:spec' }).headers['content-type'];

afterEach(() => uninstallSchemaIds());

describe('installWireFraming', () => {
  it('frames every record once the source gives ids', async () => {
    expect(await installWireFraming('payouts', () => Promise.resolve(ids))).toBe('confluent');
    expect(contentType()).toBe('application/vnd.tributary.avro+confluent');
    expect(installedSchemaIds()?.size).toBe(ids.size);
  });

  it('writes raw while the source has no registry, as the default source does without SCHEMA_REGISTRY_URL', async () => {
    delete process.env.SCHEMA_REGISTRY_URL;
    expect(await installWireFraming('gateway', () => Promise.resolve(null))).toBe('raw');
    expect(await installWireFraming('attribution')).toBe('raw');
    expect(await registrySchemaIds('simulator')).toBeNull();
    expect(contentType()).toBe('application/avro');
  });

  it('stops start-up on ids that miss a writer schema, and installs nothing', async () => {
    const partial = new Map([...ids].slice(1));
    await expect(installWireFraming('gateway', () => Promise.resolve(partial))).rejects.toThrow(SchemaIdBookError);
    expect(installedSchemaIds()).toBeNull();
  });
});
