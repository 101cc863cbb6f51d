// Public API of the event contracts: generated types, the registry, codecs and the compatibility
// checker. Everything else in this folder is an implementation detail.
export * from './generated/event-types';
export { GENERATED_EVENT_SCHEMAS } from './generated/event-schemas';
export type { GeneratedEventSchema } from './generated/event-schemas';
export { bigintLongType, fingerprintSha256, INT64_MAX, INT64_MIN, isLongValue, parseAvroType } from './avro-type';
export { CONTRACT_ISSUES_MAX, ContractError } from './contract-error';
export type { ContractIssue, ContractRule } from './contract-error';
export { decodeEvent, encodeEvent, validateEvent } from './codec';
export {
  eventKey,
  findByFingerprint,
  getEventContract,
  getEventVersion,
  isEventType,
  listEventContracts,
  topicOf,
} from './registry';
export type { EventContract, EventData, EventDataAt, EventInput, EventVersion, EventVersionContract } from './registry';
export {
  assertCatalogCompatible,
  checkCatalogCompatibility,
  checkCompatibility,
  formatIssue,
  SchemaCompatibilityError,
} from './compatibility';
export type { CompatibilityDirection, CompatibilityIssue, VersionedSchema } from './compatibility';
export { DEFAULT_SCHEMAS_DIR, DOMAINS, loadSchemaCatalog } from './schema-files';
export type { Domain, EventSchemaSource, SchemaCatalog, SchemaVersionSource } from './schema-files';
export type { JsonObject, JsonValue } from './schema-tree';
