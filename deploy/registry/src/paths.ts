import * as path from 'node:path';
import { cacheDir } from '@tributary/config';
import { REGISTRY_VERSION } from './version';

/** Where the unpacked release lives: `.cache/registry/<version>/` holds `quarkus-run.jar` and its libs. */
export function registryHomeDir(version: string = REGISTRY_VERSION, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'registry', version);
}

/** One registry instance's files: its pid, its log and its database password (mode 600). */
export function registryFiles(name: string, env: NodeJS.ProcessEnv = process.env) {
  const dataDir = path.join(cacheDir(env), 'registry-data', name);
  return {
    dataDir,
    pid: path.join(dataDir, 'registry.pid'),
    log: path.join(dataDir, 'registry.log'),
    /** The ports and database it was started with, so `status` and a second start can tell. */
    state: path.join(dataDir, 'registry.json'),
    databasePassword: path.join(dataDir, 'database.password'),
  };
}

export function registryDataRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'registry-data');
}
