import * as path from 'node:path';
import { cacheDir, localBrokerFiles } from '@tributary/config';
import { KAFKA_VERSION } from './version';

// This file lives at <repo>/deploy/kafka/src, so the repo root is three levels up. Computing it from
// the module's location (not process.cwd()) lets any script or test call us from any directory.
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const POM_FILE = path.join(REPO_ROOT, 'deploy', 'kafka', 'pom.xml');

// `.cache/` is git-ignored; TRIBUTARY_CACHE_DIR moves it (e.g. to a CI cache volume). One rule, in
// libs/config, so the provisioner and every client find a broker's credentials in the same place.
export { cacheDir };

export function kafkaHomeDir(version: string = KAFKA_VERSION): string {
  return path.join(cacheDir(), 'kafka', version);
}

export function libsDir(version: string = KAFKA_VERSION): string {
  return path.join(kafkaHomeDir(version), 'libs');
}

export function dataDir(name: string): string {
  return localBrokerFiles(name).dataDir;
}
