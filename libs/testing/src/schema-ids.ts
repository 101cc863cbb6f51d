import { schemaCatalogEntries, SchemaIdBook } from '@tributary/contracts';
import { registerEventSchemas, schemaRegistryUrl } from '@tributary/schema-registry';

/**
 * A registry id for every writer schema of this build, as a schema registry would hand them out (`first`,
 * `first + 1`, ... in catalog order): for specs that write Confluent-framed records without a registry
 * (our readers find the writer schema by the fingerprint in ce_dataschema, never by the id).
 */
export function fixedSchemaIds(first = 1): SchemaIdBook {
  return SchemaIdBook.of(new Map(schemaCatalogEntries().map((entry, index) => [entry.fingerprint, first + index])));
}

/**
 * The test stack's registry's ids (SCHEMA_REGISTRY_URL, which the integration stack sets): what the
 * services under test install at start-up and check framed records against. Without a registry, the
 * fixed ids above.
 */
export async function testRegistrySchemaIds(): Promise<SchemaIdBook> {
  const url = schemaRegistryUrl();
  return url === undefined ? fixedSchemaIds() : SchemaIdBook.of(await registerEventSchemas(url));
}
