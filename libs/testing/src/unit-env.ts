import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let caFile: string | undefined;

/**
 * Kafka credentials for unit specs that parse a service's configuration without any broker: a password
 * and a CA file in the PEM shape the configuration checks. Nothing connects with them.
 */
export function unitSpecKafkaEnv(): Record<string, string> {
  if (!caFile) {
    caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-unit-')), 'ca.crt');
    fs.writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n');
  }
  return { KAFKA_USERNAME: 'unit-spec', KAFKA_PASSWORD: 'unit-spec-password', KAFKA_CA_FILE: caFile };
}
