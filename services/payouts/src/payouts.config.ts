import { z } from 'zod';
import { boundedInt, httpHost, kafkaEnv, kafkaName, parseEnv, trustProxyHops } from '@tributary/config';
import { serviceDatabaseConfig } from '@tributary/persistence';
import { CONSUMER_GROUPS } from '@tributary/contracts';
import { accessEnv } from '@tributary/access';
import { EARNER_ROLES, type EarnerRole } from '@tributary/attribution';
import { DEFAULT_THRESHOLDS, type PayoutThresholds, type RetryPolicy } from '@tributary/payouts';

const BIGINT_MAX = 2n ** 63n - 1n;
const DAY_MS = 86_400_000;

/** A threshold in minor units, as a decimal string: money never passes through a JavaScript number. */
const thresholdMinor = (fallback: bigint) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,19}$/, 'must be a whole number of minor units')
    .transform((value) => BigInt(value))
    .refine((value) => value >= 1n && value <= BIGINT_MAX, { message: `must be from 1 to ${BIGINT_MAX}` })
    .default(fallback);

type SnakeCase<Text extends string> = Text extends `${infer Head}-${infer Tail}` ? `${Head}_${SnakeCase<Tail>}` : Text;
type ThresholdVariable<Role extends EarnerRole> = `PAYOUTS_THRESHOLD_${Uppercase<SnakeCase<Role>>}_MINOR`;

/** The variable holding a role's payout threshold: `model-owner` reads PAYOUTS_THRESHOLD_MODEL_OWNER_MINOR. */
export function thresholdVariable<Role extends EarnerRole>(role: Role): ThresholdVariable<Role> {
  return `PAYOUTS_THRESHOLD_${role.toUpperCase().replaceAll('-', '_')}_MINOR` as ThresholdVariable<Role>;
}

/** One threshold variable per earner role, so a new role is configurable without another line here. */
const thresholdVariables = Object.fromEntries(
  EARNER_ROLES.map((role) => [thresholdVariable(role), thresholdMinor(DEFAULT_THRESHOLDS.defaultMinor[role])]),
) as { [Role in EarnerRole as ThresholdVariable<Role>]: ReturnType<typeof thresholdMinor> };

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((value) => value === 'true')
    .default(fallback);

const payoutsSchema = z
  .object({
    PAYOUTS_HTTP_PORT: boundedInt(0, 65_535, 3104),
    HTTP_HOST: httpHost,
    /** Proxies in front of the service trusted to set X-Forwarded-For; 0 ignores the header. */
    HTTP_TRUST_PROXY_HOPS: trustProxyHops,
    /** HTTP requests per client address and window on every route but health and metrics; more are a 429. */
    PAYOUTS_RATE_LIMIT_PER_ADDRESS: boundedInt(1, 10_000_000, 600),
    /** HTTP requests per read credential (or OIDC subject) and window, once the request is authenticated. */
    PAYOUTS_RATE_LIMIT_PER_CREDENTIAL: boundedInt(1, 10_000_000, 600),
    PAYOUTS_RATE_LIMIT_WINDOW_MS: boundedInt(1_000, 3_600_000, 10_000),
    PAYOUTS_DB_POOL_MAX: boundedInt(2, 50, 5),
    /** The ledger read model this service reads balances from (the projector's schema) and its consumer group. */
    PAYOUTS_LEDGER_SCHEMA: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lowercase letters, digits and _')
      .default('ledger'),
    PAYOUTS_LEDGER_GROUP_ID: kafkaName.default(CONSUMER_GROUPS.ledgerProjector),
    PAYOUTS_EPOCH_INTERVAL_MS: boundedInt(60_000, 31 * DAY_MS, DAY_MS),
    PAYOUTS_EPOCH_AUTO_CLOSE: flag(true),
    ...thresholdVariables,
    PAYOUTS_RAIL: z.enum(['ledger', 'webhook'], { message: 'must be ledger or webhook' }).default('ledger'),
    PAYOUTS_WEBHOOK_URL: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional(),
    /** Where the webhook receiver answers a payout's status by idempotency key (README, "Webhook rail"); optional. */
    PAYOUTS_WEBHOOK_STATUS_URL: z
      .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
      .optional(),
    PAYOUTS_WEBHOOK_SECRET: z
      .string()
      .min(16, 'must be at least 16 characters')
      .max(1_024, 'must be at most 1024 characters')
      .optional(),
    PAYOUTS_WEBHOOK_TIMEOUT_MS: boundedInt(100, 120_000, 10_000),
    PAYOUTS_RAIL_ATTEMPTS_MAX: boundedInt(1, 50, 8),
    PAYOUTS_RAIL_BACKOFF_BASE_MS: boundedInt(10, 3_600_000, 1_000),
    PAYOUTS_RAIL_BACKOFF_MAX_MS: boundedInt(10, 3_600_000, 300_000),
    PAYOUTS_RAIL_TOTAL_MS_MAX: boundedInt(1_000, 7 * DAY_MS, 6 * 3_600_000),
    /** How often a payout waiting for reconciliation asks its rail's status query again. */
    PAYOUTS_RECONCILE_INTERVAL_MS: boundedInt(1_000, DAY_MS, 300_000),
    PAYOUTS_OPERATOR_TOKEN: z
      .string()
      .min(16, 'must be at least 16 characters')
      .max(1_024, 'must be at most 1024 characters')
      .optional(),
    PAYOUTS_POLL_INTERVAL_MS: boundedInt(50, 60_000, 1_000),
    PAYOUTS_STEP_BATCH_MAX: boundedInt(1, 1_000, 100),
  })
  .superRefine((env, context) => {
    if (env.PAYOUTS_RAIL !== 'webhook') return;
    if (!env.PAYOUTS_WEBHOOK_URL)
      context.addIssue({
        code: 'custom',
        path: ['PAYOUTS_WEBHOOK_URL'],
        message: 'is required when PAYOUTS_RAIL=webhook',
      });
    if (!env.PAYOUTS_WEBHOOK_SECRET)
      context.addIssue({
        code: 'custom',
        path: ['PAYOUTS_WEBHOOK_SECRET'],
        message: 'is required when PAYOUTS_RAIL=webhook',
      });
  });

/** Everything the payouts service reads from its environment, validated before anything starts. */
export function payoutsConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    ...parseEnv('payouts', payoutsSchema, env),
    /** Its role's connection (PAYOUTS_DB_*), and the owner's (DATABASE_URL) for the owner step only. */
    database: serviceDatabaseConfig('payouts', env),
    ...kafkaEnv(env, 'payouts'),
    /** Read credentials and OIDC (ACCESS_*), shared with the ledger API, which issues the credentials. */
    access: accessEnv(env, 'payouts'),
  };
}
export type PayoutsConfig = ReturnType<typeof payoutsConfig>;
export const PAYOUTS_CONFIG = Symbol('PAYOUTS_CONFIG');

export function thresholdsOf(config: PayoutsConfig): PayoutThresholds {
  const defaultMinor = Object.fromEntries(EARNER_ROLES.map((role) => [role, config[thresholdVariable(role)]]));
  return { defaultMinor: defaultMinor as Record<EarnerRole, bigint> };
}

export function retryPolicyOf(config: PayoutsConfig): RetryPolicy {
  return {
    attemptsMax: config.PAYOUTS_RAIL_ATTEMPTS_MAX,
    backoffBaseMs: config.PAYOUTS_RAIL_BACKOFF_BASE_MS,
    backoffMaxMs: Math.max(config.PAYOUTS_RAIL_BACKOFF_MAX_MS, config.PAYOUTS_RAIL_BACKOFF_BASE_MS),
    totalMsMax: config.PAYOUTS_RAIL_TOTAL_MS_MAX,
  };
}
