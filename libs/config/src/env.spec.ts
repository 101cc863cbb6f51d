// Proves that configuration from outside is validated before anything starts, and that each error names
// the variable and the rule broken, by parsing good, missing and bad environments.
import { z } from 'zod';
import { boundedInt, ConfigError, databaseEnv, kafkaEnv, logLevels, parseEnv } from './index';

describe('configuration from the environment', () => {
  describe('when nothing is set', () => {
    it('points at the local stack npm start brings up', () => {
      expect(kafkaEnv({})).toEqual({ KAFKA_BROKERS: ['127.0.0.1:9092'], KAFKA_CLIENT_ID: 'tributary' });
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

    it('refuses a database URL that is not PostgreSQL', () => {
      expect(() => databaseEnv({ DATABASE_URL: 'mysql://x' })).toThrow('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    });

    it('bounds every integer limit on both sides', () => {
      const schema = z.object({ BATCH_SIZE_MAX: boundedInt(1, 10, 5) });
      expect(parseEnv('test', schema, {})).toEqual({ BATCH_SIZE_MAX: 5 });
      expect(() => parseEnv('test', schema, { BATCH_SIZE_MAX: '0' })).toThrow('BATCH_SIZE_MAX: must be at least 1');
      expect(() => parseEnv('test', schema, { BATCH_SIZE_MAX: '11' })).toThrow('BATCH_SIZE_MAX: must be at most 10');
      expect(() => parseEnv('test', schema, { BATCH_SIZE_MAX: '2.5' })).toThrow('BATCH_SIZE_MAX: must be an integer');
    });
  });
});
