// Proves the payouts service's configuration and request inputs are validated with errors that name
// the variable or field and the rule, by parsing good and bad environments and inputs.
import { inspect } from 'node:util';
import { unitSpecKafkaEnv } from '@tributary/testing';
import { ConfigError } from '@tributary/config';
import { epochNumber } from './http/payouts.controller';
import { payoutsConfig, retryPolicyOf, thresholdsOf } from './payouts.config';
import { parseAccountIdInput, parseLimit } from './saga/statement';

describe('payouts configuration', () => {
  describe('when nothing is set', () => {
    it('settles on the ledger rail, closes daily, with the documented thresholds and no operator endpoint', () => {
      const config = payoutsConfig(unitSpecKafkaEnv());
      expect(config).toMatchObject({
        PAYOUTS_RAIL: 'ledger',
        PAYOUTS_EPOCH_INTERVAL_MS: 86_400_000,
        PAYOUTS_EPOCH_AUTO_CLOSE: true,
        PAYOUTS_HTTP_PORT: 3104,
      });
      expect(config.PAYOUTS_OPERATOR_TOKEN).toBeUndefined();
      expect(thresholdsOf(config).defaultMinor).toEqual({
        contributor: 1_000n,
        'model-owner': 1_000n,
        'datanet-owner': 1_000n,
        protocol: 1n,
      });
      expect(retryPolicyOf(config)).toEqual({
        attemptsMax: 8,
        backoffBaseMs: 1_000,
        backoffMaxMs: 300_000,
        totalMsMax: 21_600_000,
      });
    });
  });

  describe('when a value breaks its rule', () => {
    it.each([
      [{ PAYOUTS_RAIL: 'webhook' }, 'PAYOUTS_WEBHOOK_URL: is required when PAYOUTS_RAIL=webhook'],
      [
        { PAYOUTS_RAIL: 'webhook', PAYOUTS_WEBHOOK_URL: 'http://127.0.0.1/x' },
        'PAYOUTS_WEBHOOK_SECRET: is required when PAYOUTS_RAIL=webhook',
      ],
      [{ PAYOUTS_RAIL: 'ach' }, 'PAYOUTS_RAIL: must be ledger or webhook'],
      [{ PAYOUTS_WEBHOOK_URL: 'ftp://x' }, 'PAYOUTS_WEBHOOK_URL: must be an http:// or https:// URL'],
      [{ PAYOUTS_EPOCH_INTERVAL_MS: '1000' }, 'PAYOUTS_EPOCH_INTERVAL_MS: must be at least 60000'],
      [{ PAYOUTS_RAIL_ATTEMPTS_MAX: '0' }, 'PAYOUTS_RAIL_ATTEMPTS_MAX: must be at least 1'],
      [
        { PAYOUTS_THRESHOLD_CONTRIBUTOR_MINOR: '12.5' },
        'PAYOUTS_THRESHOLD_CONTRIBUTOR_MINOR: must be a whole number of minor units',
      ],
      [{ PAYOUTS_THRESHOLD_PROTOCOL_MINOR: '0' }, 'PAYOUTS_THRESHOLD_PROTOCOL_MINOR: must be from 1 to'],
      [{ PAYOUTS_OPERATOR_TOKEN: 'short' }, 'PAYOUTS_OPERATOR_TOKEN: must be at least 16 characters'],
      [{ PAYOUTS_EPOCH_AUTO_CLOSE: 'yes' }, 'PAYOUTS_EPOCH_AUTO_CLOSE: must be true or false'],
    ])('names the variable and the rule (%o)', (env, message) => {
      expect(() => payoutsConfig({ ...unitSpecKafkaEnv(), ...env })).toThrow(ConfigError);
      expect(() => payoutsConfig({ ...unitSpecKafkaEnv(), ...env })).toThrow(message);
    });

    it.each([
      [{ PAYOUTS_OPERATOR_TOKEN: 'tok-leak-1' }, 'tok-leak-1', 'PAYOUTS_OPERATOR_TOKEN: must be at least 16'],
      [{ PAYOUTS_WEBHOOK_SECRET: 'whs-leak-1' }, 'whs-leak-1', 'PAYOUTS_WEBHOOK_SECRET: must be at least 16'],
      [{ DATABASE_URL: 'postgres://o:pw-leak-1@[db/x' }, 'pw-leak-1', 'DATABASE_URL: must be a postgres://'],
      [{ DATABASE_URL: 'mysql://o:pw-leak-2@db/x' }, 'pw-leak-2', 'DATABASE_URL: must be a postgres://'],
      [{ KAFKA_PASSWORD: `kp-leak-1${'x'.repeat(1_024)}` }, 'kp-leak-1', 'KAFKA_PASSWORD: must be at most 1024'],
    ])('names a secret variable and its rule but never echoes its value (%o)', (env, secret, message) => {
      const error = captured(() => payoutsConfig({ ...unitSpecKafkaEnv(), ...env }));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(message);
      for (const shown of [(error as Error).message, (error as Error).stack, inspect(error), JSON.stringify(error)])
        expect(shown).not.toContain(secret);
    });
  });
});

function captured(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('request inputs', () => {
  it.each([0, -1, 1.5, '1e3', 2 ** 31, 'x', null])('refuses epoch %p', (value) => {
    expect(() => epochNumber(value)).toThrow('epoch: must be an integer from 1 to');
  });

  it('accepts an epoch as a number or a decimal string', () => {
    expect(epochNumber(7)).toBe(7);
    expect(epochNumber('7')).toBe(7);
  });

  it('refuses an account id without a role, and a limit out of bounds', () => {
    expect(() => parseAccountIdInput('alice')).toThrow('accountId: must be "<role>:<id>"');
    expect(parseAccountIdInput('contributor:alice')).toBe('contributor:alice');
    expect(() => parseLimit('0')).toThrow('limit: must be an integer from 1 to 1000');
    expect(() => parseLimit('1001')).toThrow('limit:');
    expect(parseLimit(undefined)).toBe(100);
  });
});
