import { installSchemaIds, uninstallSchemaIds, type Framing } from '@tributary/contracts';

/** The processes that write event records, each of which installs the registry's ids at start-up. */
export type EventWriter = 'gateway' | 'attribution' | 'payouts' | 'simulator';

/**
 * Where the schema registry's ids come from: the map from each writer schema's SHA-256 fingerprint (as in
 * ce_dataschema and the schema catalog) to the id the registry gave it, or null when this deployment has
 * no registry (records are then written raw, as before).
 */
export type SchemaIdSource = (writer: EventWriter) => Promise<ReadonlyMap<string, number> | null>;

/**
 * INTEGRATION SEAM for the schema registry: the source every writing process uses at start-up. Until the
 * registry's registration client is wired in here (register the schemas, return fingerprint -> id), no
 * process has ids and every record stays raw Avro.
 */
export const registrySchemaIds: SchemaIdSource = () => Promise.resolve(null);

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
