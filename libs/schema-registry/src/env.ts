import { ConfigError } from '@tributary/config';

/** The variable that names the registry: its Confluent-compatible API's base URL. */
export const SCHEMA_REGISTRY_URL = 'SCHEMA_REGISTRY_URL';

/**
 * SCHEMA_REGISTRY_URL, validated; undefined when unset (no registry in this environment: the catalog
 * then carries no registry ids, and nothing else changes). Errors name the variable and the rule,
 * never the value (it could hold credentials).
 */
export function schemaRegistryUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const text = env[SCHEMA_REGISTRY_URL];
  if (text === undefined || text === '') return undefined;
  const problem = (rule: string) => new ConfigError('schema registry', [{ field: SCHEMA_REGISTRY_URL, rule }]);
  if (!URL.canParse(text)) throw problem('must be an http(s) URL');
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw problem('must be an http(s) URL');
  if (url.username || url.password) throw problem('must not carry credentials');
  if (url.search || url.hash) throw problem('must have no query or fragment');
  return text.replace(/\/+$/, '');
}
