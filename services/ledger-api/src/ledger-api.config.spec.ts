// Proves the query API's configuration names a bad secret's variable and rule without echoing its value,
// and that the reader's URL derived from the owner's never reaches an error, by parsing bad environments.
import { inspect } from 'node:util';
import { ConfigError } from '@tributary/config';
import { unitSpecKafkaEnv } from '@tributary/testing';
import { ledgerApiConfig } from './ledger-api.config';

describe('ledger-api configuration with a bad secret', () => {
  it.each([
    [{ DATABASE_URL: 'postgres://owner:pw-leak-1@[db/tributary' }, 'pw-leak-1', 'DATABASE_URL: must be a postgres://'],
    [
      { LEDGER_API_READER_DATABASE_URL: 'postgres://reader:pw-leak-2@db:x/tributary' },
      'pw-leak-2',
      'LEDGER_API_READER_DATABASE_URL: must be a postgres://',
    ],
    [
      { LEDGER_API_READER_PASSWORD: `rp-leak-1${'x'.repeat(128)}` },
      'rp-leak-1',
      'LEDGER_API_READER_PASSWORD: must be at most 128',
    ],
    [
      { LEDGER_API_READER_PASSWORD: 'rp-leak-2-\u00e9t\u00e9' },
      'rp-leak-2',
      'LEDGER_API_READER_PASSWORD: must be printable ASCII',
    ],
  ])('names the variable and the rule, never the value (%o)', (env, secret, message) => {
    let error: unknown;
    try {
      ledgerApiConfig({ ...unitSpecKafkaEnv(), ...env });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    for (const shown of [(error as Error).message, (error as Error).stack, inspect(error), JSON.stringify(error)])
      expect(shown).not.toContain(secret);
  });
});
