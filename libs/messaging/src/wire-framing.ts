import { installSchemaIds, uninstallSchemaIds, type Framing } from '@tributary/contracts';
import { registerEventSchemas, schemaRegistryUrl } from '@tributary/schema-registry';

/** The processes that write event records, each of which installs the registry's ids at start-up. */
export type EventWriter = 'gateway' | 'attribution' | 'payouts' | 'simulator';

/**
 * Where the schema registry's ids come from: the map from each writer schema's SHA-256 fingerprint (as in
 * ce_dataschema and the schema catalog) to the id the registry gave it, or null when this deployment has
 * no registry (records are then written raw, as before).
 */
export type SchemaIdSource = (writer: EventWriter) => Promise<ReadonlyMap<string, number> | null>;

/**
 * The source every writing process uses at start-up: with SCHEMA_REGISTRY_URL set, every schema is
 * registered (idempotently: a schema already there keeps its id) and the registry's ids are returned;
 * without it, null, and records are written raw. A registry that does not answer stops the start-up
 * (after the client's bounded retries) rather than letting a process write records no tool can resolve.
 */
export const registrySchemaIds: SchemaIdSource = async () => {
  const url = schemaRegistryUrl();
  return url === undefined ? null : registerEventSchemas(url);
};

/**
 * Called by every process that writes event records, at start-up before any producer sends: asks `source`
 * for the registry's ids and installs them (libs/contracts' installSchemaIds), so that from then on every
 * record toRecord builds is Confluent-framed. Resolves with the framing in force. A map that lacks a
 * writer schema or holds an id outside 1..2^31-1 rejects (SchemaIdBookError, naming the entry): the
 * process stops at start-up instead of writing records some tool could not resolve.
 */
export async function installWireFraming(
  writer: EventWriter,
  source: SchemaIdSource = registrySchemaIds,
): Promise<Framing> {
  const ids = await source(writer);
  if (ids === null) {
    uninstallSchemaIds();
    return 'raw';
  }
  installSchemaIds(ids);
  return 'confluent';
}
