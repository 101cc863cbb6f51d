import { schemaCatalogEntries, SchemaIdBook } from '@tributary/contracts';

/**
 * A registry id for every writer schema of this build, as a schema registry would hand them out (`first`,
 * `first + 1`, ... in catalog order): for specs that write Confluent-framed records without a registry
 * (our readers find the writer schema by the fingerprint in ce_dataschema, never by the id).
 */
export function fixedSchemaIds(first = 1): SchemaIdBook {
  return SchemaIdBook.of(new Map(schemaCatalogEntries().map((entry, index) => [entry.fingerprint, first + index])));
}
