import { listEventContracts } from './schemas/registry';
import type { JsonObject } from './schemas/schema-tree';

/**
 * One entry of the schema catalog: what is published to the compacted `tributary.schemas` topic (key:
 * the fingerprint) and served over HTTP, so a consumer in any language can fetch the writer schema of
 * any record it reads from the fingerprint in its ce_dataschema header.
 */
export interface SchemaCatalogEntry {
  readonly fingerprint: string;
  readonly eventType: string;
  /** The Avro full name, equal to the ce_type header of records written with it. */
  readonly name: string;
  readonly version: number;
  readonly topic: string;
  readonly schema: JsonObject;
  /**
   * The id the schema registry gave this schema (the id Confluent-framed records carry), where a registry
   * runs and the schemas were registered; absent otherwise, so nothing breaks without a registry.
   */
  readonly registryId?: number;
}

/** Every schema version; `registryIds` (fingerprint -> registry id, from registering them) adds each one's id. */
export function schemaCatalogEntries(registryIds?: ReadonlyMap<string, number>): SchemaCatalogEntry[] {
  return listEventContracts().flatMap((contract) =>
    [...contract.versions.values()].map((version) => {
      const registryId = registryIds?.get(version.fingerprintSha256);
      return {
        fingerprint: version.fingerprintSha256,
        eventType: contract.eventType,
        name: `tributary.${contract.domain}.${contract.eventType}`,
        version: version.version,
        topic: contract.topic,
        schema: version.schema,
        ...(registryId === undefined ? {} : { registryId }),
      };
    }),
  );
}
