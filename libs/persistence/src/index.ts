export { bigintTransformer } from './bigint.transformer';
export { postgresOptions, ensureSchema, type ServiceDatabase } from './postgres-options';
export { DatabaseHealthController } from './database-health.controller';
export { withDataSource } from './with-data-source';
export {
  retryOnCatalogRace,
  initializeDataSource,
  isCatalogRace,
  DEADLOCK_DETECTED,
  type CatalogRaceRetry,
} from './retry-on-catalog-race';
export { PostgresOffsetStore, CreateConsumerOffsets1764000000000 } from './consumer-offset-store';
export { lockCreatingOnMiss } from './locked-row';
export {
  CopyEncoder,
  copyEncoded,
  copyEncodedTogether,
  type CopiedTable,
  copyRows,
  encodeBinary,
  type CopyColumn,
  type CopyType,
  type CopyValue,
} from './copy-rows';
export { scramSha256Verifier } from './scram-verifier';
export {
  DATABASE_ACCESS,
  OWNER_WRITTEN_SCHEMAS,
  ROLE_NAME,
  copySchemaGrants,
  roleUrlOf,
  ownerStepAtStartUp,
  runOwnerStep,
  serviceDatabaseConfig,
  waitForOtherDdl,
  withClient,
  identifier as sqlIdentifier,
  literal as sqlLiteral,
  type DatabaseService,
  type RoleVariables,
  type SchemaAccess,
  type ServiceDatabaseConfig,
} from './database-roles';
