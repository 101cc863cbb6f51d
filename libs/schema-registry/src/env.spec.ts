// Proves SCHEMA_REGISTRY_URL is optional, and when set must be a plain http(s) URL, with errors naming the variable.
import { ConfigError } from '@tributary/config';
import { schemaRegistryUrl } from './env';

describe('schemaRegistryUrl', () => {
  it('is undefined when unset or empty', () => {
    expect(schemaRegistryUrl({})).toBeUndefined();
    expect(schemaRegistryUrl({ SCHEMA_REGISTRY_URL: '' })).toBeUndefined();
  });

  it('takes an http(s) URL without its trailing slash', () => {
    expect(schemaRegistryUrl({ SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7/' })).toBe(
      'http://127.0.0.1:8081/apis/ccompat/v7',
    );
  });

  it.each([
    ['registry:8081', 'must be an http(s) URL'],
    ['ftp://registry/x', 'must be an http(s) URL'],
    ['http://user:secret@registry/x', 'must not carry credentials'],
    ['http://registry/x?y=1', 'must have no query or fragment'],
  ])('refuses %p: %s, without echoing the value', (value, rule) => {
    let caught: unknown;
    try {
      schemaRegistryUrl({ SCHEMA_REGISTRY_URL: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toBe(`invalid schema registry configuration: SCHEMA_REGISTRY_URL: ${rule}`);
  });
});
