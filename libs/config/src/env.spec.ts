// Proves that configuration from outside is validated before anything starts, and that each error names
// the variable and the rule broken, by parsing good, missing and bad environments.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import {
  boundedInt,
  ConfigError,
  databaseEnv,
  describeKafkaSecurity,
  kafkaClientOptions,
  kafkaCredentialProblem,
  kafkaEnv,
  logLevels,
  parseEnv,
} from './index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-env-spec-'));
const caFile = path.join(dir, 'ca.crt');
const passwordFile = path.join(dir, 'gateway.password');
fs.writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n');
fs.writeFileSync(passwordFile, 's3cret-from-file\n');
const cacheDir = path.join(dir, 'cache');
fs.mkdirSync(path.join(cacheDir, 'kafka-data', 'dev', 'credentials'), { recursive: true });
fs.mkdirSync(path.join(cacheDir, 'kafka-data', 'dev', 'tls'), { recursive: true });
fs.writeFileSync(path.join(cacheDir, 'kafka-data', 'dev', 'credentials', 'payouts.password'), 'local-payouts\n');
fs.copyFileSync(caFile, path.join(cacheDir, 'kafka-data', 'dev', 'tls', 'ca.crt'));

describe('configuration from the environment', () => {
  describe('when nothing is set', () => {
    it("points at the local stack npm start brings up: its broker, its CA and the principal's password file", () => {
      const config = kafkaEnv({ TRIBUTARY_CACHE_DIR: cacheDir }, 'payouts');
      expect(config).toMatchObject({
        KAFKA_BROKERS: ['127.0.0.1:9092'],
        KAFKA_CLIENT_ID: 'tributary',
        KAFKA_SECURITY: 'sasl_ssl',
      });
      expect(describeKafkaSecurity(config.kafkaSecurity)).toBe('SASL_SSL as payouts');
      expect(kafkaClientOptions(config).sasl).toEqual({
        mechanism: 'scram-sha-512',
        username: 'payouts',
        password: 'local-payouts',
      });
      expect(databaseEnv({}).DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/tributary');
      expect(logLevels({})).toEqual(['fatal', 'error', 'warn', 'log']);
    });
  });

  describe('when a value breaks its rule', () => {
    it.each([
      [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS: each broker must be host:port, comma separated'],
      [{ KAFKA_CLIENT_ID: 'has space' }, 'KAFKA_CLIENT_ID: must be 1-249 characters'],
    ])('names the variable and the rule (%o)', (env, message) => {
      expect(() => kafkaEnv(env)).toThrow(ConfigError);
      expect(() => kafkaEnv(env)).toThrow(message);
    });

    it.each([
      [{ KAFKA_SECURITY: 'ssl' }, 'KAFKA_SECURITY: must be one of sasl_ssl, plaintext'],
      [{ KAFKA_USERNAME: 'Bad Name' }, 'KAFKA_USERNAME: must be 1-64 lower-case letters'],
      [
        { KAFKA_PASSWORD_FILE: path.join(dir, 'missing') },
        `KAFKA_PASSWORD_FILE: cannot read ${path.join(dir, 'missing')} (ENOENT)`,
      ],
      [{ KAFKA_PASSWORD: 'x', KAFKA_CA_FILE: passwordFile }, 'KAFKA_CA_FILE: must hold a PEM certificate'],
      [{ KAFKA_PASSWORD: 'x', KAFKA_CA_FILE: path.join(dir, 'none.crt') }, 'KAFKA_CA_FILE: cannot read'],
    ])('names the Kafka credential variable that is wrong (%o)', (env, message) => {
      expect(() => kafkaEnv({ TRIBUTARY_CACHE_DIR: path.join(dir, 'empty'), ...env })).toThrow(message);
    });

    it('refuses a database URL that is not PostgreSQL', () => {
      expect(() => databaseEnv({ DATABASE_URL: 'mysql://x' })).toThrow(
        'DATABASE_URL: must be a postgres:// or postgresql:// URL',
      );
    });

    it('bounds every integer limit on both sides', () => {
      const schema = z.object({ BATCH_SIZE_MAX: boundedInt(1, 10, 5) });
      expect(parseEnv('test', schema, {})).toEqual({ BATCH_SIZE_MAX: 5 });
      expect(() => parseEnv('test', schema, { BATCH_SIZE_MAX: '0' })).toThrow('BATCH_SIZE_MAX: must be at least 1');
      expect(() => parseEnv('test', schema, { BATCH_SIZE_MAX: '11' })).toThrow('BATCH_SIZE_MAX: must be at most 10');
      expect(() => parseEnv('test', schema, { BATCH_SIZE_MAX: '2.5' })).toThrow('BATCH_SIZE_MAX: must be an integer');
    });
  });

  describe('Kafka credentials', () => {
    it('reads the password from a file, and never shows it when the configuration is printed', () => {
      const config = kafkaEnv({ KAFKA_USERNAME: 'gateway', KAFKA_PASSWORD_FILE: passwordFile, KAFKA_CA_FILE: caFile });
      expect(kafkaClientOptions(config).sasl?.password).toBe('s3cret-from-file');
      expect(kafkaClientOptions(config).ssl).toEqual({
        ca: [fs.readFileSync(caFile, 'utf8')],
        rejectUnauthorized: true,
      });
      for (const printed of [JSON.stringify(config), inspect(config, { depth: 5 }), String(config.kafkaSecurity)]) {
        expect(printed).not.toContain('s3cret-from-file');
      }
    });

    it('runs plaintext only when asked for by name, with no credentials at all', () => {
      const config = kafkaEnv({ ['KAFKA_SECURITY']: 'plaintext' });
      expect(config.kafkaSecurity).toEqual({ mode: 'plaintext' });
      expect(kafkaClientOptions(config)).toEqual({ clientId: 'tributary', brokers: ['127.0.0.1:9092'] });
    });

    it('turns the broker refusing the credentials into one line naming the variables', () => {
      const refused = Object.assign(new Error('retries exceeded'), {
        originalError: Object.assign(new Error('SASL SCRAM SHA512 authentication failed'), {
          name: 'KafkaJSSASLAuthenticationError',
        }),
      });
      expect(kafkaCredentialProblem(refused)).toMatch(
        /^invalid kafka configuration: KAFKA_USERNAME \/ KAFKA_PASSWORD: the broker refused/,
      );
      expect(kafkaCredentialProblem(new Error('connection refused'))).toBeUndefined();
    });
  });
});
