export { bigintTransformer } from './bigint.transformer';
export { postgresOptions, ensureSchema, type ServiceDatabase } from './postgres-options';
