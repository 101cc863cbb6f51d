import { z } from 'zod';
import { boundedInt, httpHost, kafkaEnv, parseEnv, trustProxyHops } from '@tributary/config';
import { CONSUMER_GROUPS } from '@tributary/contracts';
import { accessEnv } from '@tributary/access';

import { roleUrlOf, serviceDatabaseConfig } from '@tributary/persistence';

export { ROLE_NAME } from '@tributary/persistence';

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
  LEDGER_API_DB_POOL_MAX: boundedInt(1, 100, 10),
  LEDGER_API_STATEMENT_TIMEOUT_MS: boundedInt(100, 600_000, 10_000),
  /** Concurrent decision reads from Kafka (explain); more wait for a 503 rather than pile up consumers. */
  LEDGER_API_DECISION_READS_MAX: boundedInt(1, 32, 4),
  LEDGER_API_KAFKA_TIMEOUT_MS: boundedInt(500, 120_000, 15_000),
  /** How old the DLQ depth on the status and /metrics may be: at most one read of the DLQs per this. */
  LEDGER_API_DLQ_DEPTH_TTL_MS: boundedInt(1_000, 3_600_000, 15_000),
  /** The longest GET /v1/freshness?waitMs a caller may ask for; 0 refuses every wait. */
  LEDGER_API_FRESHNESS_WAIT_MS_MAX: boundedInt(0, 120_000, 30_000),
  /** Requests waiting in GET /v1/freshness at once; one more is a 503. */
  LEDGER_API_FRESHNESS_WAITERS_MAX: boundedInt(1, 100_000, 10_000),
  /** How often the waiting requests are checked (two queries a check, whatever their number). */
  LEDGER_API_FRESHNESS_POLL_MS: boundedInt(1, 1_000, 10),
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
  /**
   * The reader role (LEDGER_API_READER_ROLE, _PASSWORD, _DATABASE_URL): it can SELECT the ledger read model
   * and nothing else. DATABASE_URL, the owner's, serves the owner step only (LEDGER_API_MIGRATE).
   */
  const database = serviceDatabaseConfig('ledger-api', env);
  return {
    ...parseEnv('ledger-api', ledgerApiSchema, env),
    ...kafkaEnv(env, 'ledger-api'),
    database,
    /** Read credentials and OIDC (ACCESS_*), shared with the payouts service. */
    access: accessEnv(env, 'ledger-api'),
    LEDGER_API_READER_ROLE: database.role,
    readerDatabaseUrl: database.url,
  };
}
export type LedgerApiConfig = ReturnType<typeof ledgerApiConfig>;
export const LEDGER_API_CONFIG = Symbol('LEDGER_API_CONFIG');

/** The owner's URL with the reader's credentials: same server and database, another role. */
export const readerUrlOf = roleUrlOf;
