import { hostname } from 'node:os';
import { z } from 'zod';
import { boundedInt, httpHost, kafkaEnv, kafkaName, parseEnv, trustProxyHops } from '@tributary/config';
import { serviceDatabaseConfig } from '@tributary/persistence';
import { topicPrefix } from '@tributary/contracts';
import { BATCH_EVENTS_MAX, REQUEST_BYTES_MAX_DEFAULT } from '@tributary/producer';

const defaultInstanceId =
  hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 64) || 'gateway';

const gatewaySchema = z.object({
  GATEWAY_HTTP_PORT: boundedInt(0, 65_535, 3100),
  HTTP_HOST: httpHost,
  /** Proxies in front of the gateway trusted to set X-Forwarded-For; 0 ignores the header. */
  HTTP_TRUST_PROXY_HOPS: trustProxyHops,
  /** Largest request body; a bigger one is a 413 before it is parsed. */
  GATEWAY_BODY_BYTES_MAX: boundedInt(1_024, 64 * 1_048_576, 5 * 1_048_576),
  /** Events per batch request; one batch is one Kafka transaction. */
  GATEWAY_BATCH_EVENTS_MAX: boundedInt(1, BATCH_EVENTS_MAX, BATCH_EVENTS_MAX),
  /** Transactional producers, each running one transaction at a time; batches that wait share the next. */
  GATEWAY_TRANSACTIONAL_PRODUCERS: boundedInt(1, 16, 2),
  /** Batch requests that may wait while every transactional producer is busy; more are a 503. */
  GATEWAY_BATCH_WAITERS_MAX: boundedInt(0, 10_000, 64),
  /** Single events that may wait for the next Kafka send; more are a 503. */
  GATEWAY_SINGLE_QUEUE_MAX: boundedInt(1, 1_000_000, 20_000),
  /**
   * What one Kafka produce request may hold (Java's max.request.size): the group commit of single events
   * and the batch endpoint's transaction are split into sends of at most this, and an event whose record
   * alone is larger (or larger than its topic's max.message.bytes, 1 MiB) is a 413 naming the limit.
   */
  GATEWAY_REQUEST_BYTES_MAX: boundedInt(16_384, 16 * 1_048_576, REQUEST_BYTES_MAX_DEFAULT),
  /** How long one Kafka send may wait for the broker's acknowledgement. */
  GATEWAY_ACK_TIMEOUT_MS: boundedInt(100, 120_000, 10_000),
  /** After a Kafka failure, requests are refused at once (503) for this long instead of each waiting on the broker. */
  GATEWAY_KAFKA_COOLDOWN_MS: boundedInt(0, 600_000, 2_000),
  GATEWAY_RETRY_AFTER_S: boundedInt(1, 3_600, 5),
  /** A 'pending' idempotency claim older than this is taken over by a retry (its request died). */
  GATEWAY_CLAIM_STALE_MS: boundedInt(1_000, 86_400_000, 120_000),
  /** How long a key lookup is cached; a revocation takes effect within it. 0 turns the cache off. */
  GATEWAY_KEY_CACHE_TTL_MS: boundedInt(0, 600_000, 5_000),
  /** The rate limits' window: each limit below counts requests per this many milliseconds. */
  GATEWAY_RATE_LIMIT_WINDOW_MS: boundedInt(1_000, 3_600_000, 10_000),
  /** Requests per window for one API key, across all routes; more are a 429 with Retry-After. */
  GATEWAY_RATE_LIMIT_PER_KEY: boundedInt(1, 10_000_000, 20_000),
  /** Requests per window from one client address on the routes that take no key (the schema catalog). */
  GATEWAY_RATE_LIMIT_PER_ADDRESS: boundedInt(1, 10_000_000, 1_000),
  /**
   * Key look-ups that found no live key, per client address and window; past it, a key the gateway
   * does not already hold in its cache is a 429 without a look-up until the window ends.
   */
  GATEWAY_AUTH_FAILURES_PER_ADDRESS: boundedInt(1, 100_000, 20),
  GATEWAY_AUTH_FAILURE_WINDOW_MS: boundedInt(1_000, 3_600_000, 60_000),
  /** How long a key found unknown or revoked is refused without a look-up. 0 turns this memory off. */
  GATEWAY_UNKNOWN_KEY_CACHE_TTL_MS: boundedInt(0, 86_400_000, 600_000),
  GATEWAY_DB_POOL_MAX: boundedInt(1, 200, 20),
  /** Names this instance's transactional ids; two running gateways must not share one. */
  GATEWAY_INSTANCE_ID: kafkaName.default(defaultInstanceId),
});

/** Everything the gateway reads from its environment, validated before anything starts. */
export function gatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    ...parseEnv('gateway', gatewaySchema, env),
    ...kafkaEnv(env, 'gateway'),
    /** Its role's connection (GATEWAY_DB_*), and the owner's (DATABASE_URL) for the owner step only. */
    database: serviceDatabaseConfig('gateway', env),
    TRIBUTARY_TOPIC_PREFIX: topicPrefix(env),
  };
}
export type GatewayConfig = ReturnType<typeof gatewayConfig>;
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
