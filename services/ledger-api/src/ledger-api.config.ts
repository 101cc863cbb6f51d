import { z } from 'zod';
import { boundedInt, databaseEnv, httpHost, kafkaEnv, parseEnv, postgresUrl, trustProxyHops } from '@tributary/config';
import { CONSUMER_GROUPS } from '@tributary/contracts';
import { accessEnv } from '@tributary/access';

/** PostgreSQL role names are interpolated into DDL, so they are held to a strict pattern. */
export const ROLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

const ledgerApiSchema = z.object({
  LEDGER_API_HTTP_PORT: boundedInt(0, 65_535, 3105),
  HTTP_HOST: httpHost,
  /** Proxies in front of the API trusted to set X-Forwarded-For; 0 ignores the header. */
  HTTP_TRUST_PROXY_HOPS: trustProxyHops,
  /** Requests per client address and window on every route but health and metrics; more are a 429. */
  LEDGER_API_RATE_LIMIT_PER_ADDRESS: boundedInt(1, 10_000_000, 600),
  /** Requests per read credential (or OIDC subject) and window, once the request is authenticated. */
  LEDGER_API_RATE_LIMIT_PER_CREDENTIAL: boundedInt(1, 10_000_000, 600),
  LEDGER_API_RATE_LIMIT_WINDOW_MS: boundedInt(1_000, 3_600_000, 10_000),
  /** The role the API reads through: it can SELECT the ledger read model and nothing else. */
  LEDGER_API_READER_ROLE: z
    .string()
    .trim()
    .regex(ROLE_NAME, 'must be lowercase letters, digits and _ (at most 63), starting with a letter')
    .default('tributary_ledger_reader'),
  /** Empty where the server trusts local connections; set it wherever PostgreSQL asks for a password. */
  LEDGER_API_READER_PASSWORD: z
    .string()
    .max(128, 'must be at most 128 characters')
    // Printable ASCII: the owner step sends PostgreSQL a SCRAM verifier, exact only where SASLprep changes nothing.
    .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII characters')
    .default(''),
  /** The reader's connection; by default DATABASE_URL with the reader role and password swapped in. */
  LEDGER_API_READER_DATABASE_URL: postgresUrl.optional(),
  /** `true`: run the owner step (migration, role, grants) at start-up with DATABASE_URL; `false`: it was run by `npm run ledger-api -- migrate`. */
  LEDGER_API_MIGRATE: z.enum(['true', 'false'], { message: 'must be true or false' }).default('true'),
  LEDGER_API_DB_POOL_MAX: boundedInt(1, 100, 10),
  LEDGER_API_STATEMENT_TIMEOUT_MS: boundedInt(100, 600_000, 10_000),
  /** Concurrent decision reads from Kafka (explain); more wait for a 503 rather than pile up consumers. */
  LEDGER_API_DECISION_READS_MAX: boundedInt(1, 32, 4),
  LEDGER_API_KAFKA_TIMEOUT_MS: boundedInt(500, 120_000, 15_000),
  /** How old the DLQ depth on the status and /metrics may be: at most one read of the DLQs per this. */
  LEDGER_API_DLQ_DEPTH_TTL_MS: boundedInt(1_000, 3_600_000, 15_000),
  /** The projector's consumer group: its stored offsets say how far the ledger is. */
  LEDGER_PROJECTOR_GROUP_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka group id')
    .default(CONSUMER_GROUPS.ledgerProjector),
  /** The attribution service's group: its committed offsets on the inferences topic say what it has decided. */
  ATTRIBUTION_GROUP_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka group id')
    .default(CONSUMER_GROUPS.attribution),
});

/** Everything the query API reads from its environment, validated before anything starts. */
export function ledgerApiConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = {
    ...parseEnv('ledger-api', ledgerApiSchema, env),
    ...databaseEnv(env),
    ...kafkaEnv(env, 'ledger-api'),
    /** Read credentials and OIDC (ACCESS_*), shared with the payouts service. */
    access: accessEnv(env, 'ledger-api'),
  };
  return {
    ...parsed,
    readerDatabaseUrl:
      parsed.LEDGER_API_READER_DATABASE_URL ??
      readerUrlOf(parsed.DATABASE_URL, parsed.LEDGER_API_READER_ROLE, parsed.LEDGER_API_READER_PASSWORD),
  };
}
export type LedgerApiConfig = ReturnType<typeof ledgerApiConfig>;
export const LEDGER_API_CONFIG = Symbol('LEDGER_API_CONFIG');

/** The owner's URL with the reader's credentials: same server and database, another role. */
export function readerUrlOf(ownerUrl: string, role: string, password: string): string {
  const url = new URL(ownerUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}
