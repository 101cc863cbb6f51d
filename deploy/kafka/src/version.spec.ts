// Proves the pom resolves the same Kafka version the code runs, by reading kafka.version out of deploy/kafka/pom.xml.
import * as fs from 'node:fs';
import { POM_FILE } from './paths';
import { KAFKA_VERSION } from './version';

it('pom.xml kafka.version equals KAFKA_VERSION', () => {
  const pom = fs.readFileSync(POM_FILE, 'utf8');
  expect(/<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1]).toBe(KAFKA_VERSION);
});
