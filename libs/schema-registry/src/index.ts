// @tributary/schema-registry: Tributary's event schemas in a Confluent-compatible schema registry.
export {
  COMPATIBILITY_LEVEL,
  REGISTRY_CONTENT_TYPE,
  RegistryResponseError,
  compatibilityBody,
  parseCompatibilityResponse,
  parseRegisterResponse,
  parseSchemaByIdResponse,
  parseSubjectVersionResponse,
  parseSubjectsResponse,
  parseVersionsResponse,
  registerSchemaBody,
  registrationPlan,
  registryErrorText,
  subjectOf,
  type PlannedSubject,
  type PlannedVersion,
} from './plan';
export { SchemaRegistryClient, SchemaRegistryError, registerEventSchemas, type RegistryClientOptions } from './client';
export { SCHEMA_REGISTRY_URL, schemaRegistryUrl } from './env';
