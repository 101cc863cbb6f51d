export { ensurePostgres, dropDatabase, withDatabase } from './postgres';
