// @tributary/registry-provisioner: Apicurio Registry from Maven Central, on 127.0.0.1, its data in PostgreSQL.
export { REGISTRY_VERSION, REGISTRY_IMAGE, REGISTRY_JAVA_MAJOR_MIN } from './version';
export { ensureRegistryInstalled } from './install';
export { findRegistryJava, type FoundJava } from './java';
export { ensureRegistryDatabase, registryDatabaseName, REGISTRY_SCHEMA } from './database';
export {
  CCOMPAT_PATH,
  SCHEMA_REGISTRY_URL_VARIABLE,
  startRegistry,
  stopRegistry,
  registryStatus,
  type RunningRegistry,
  type StartRegistryOptions,
  type RegistryStatus,
} from './registry';
export { registryFiles } from './paths';
