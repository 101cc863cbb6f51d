import { z } from 'zod';
import { boundedInt, httpHost, kafkaEnv, kafkaName, parseEnv } from '@tributary/config';
import { serviceDatabaseConfig } from '@tributary/persistence';
import { CONSUMER_GROUPS } from '@tributary/contracts';
import { POLICY_VERSION, type SplitPolicy } from '@tributary/attribution';

/** The largest fee the service attributes by default: 10^15 minor units (ten trillion dollars in cents). */
const FEE_MINOR_MAX_DEFAULT = 1_000_000_000_000_000n;
const BIGINT_MAX = 2n ** 63n - 1n;

const feeMinorMax = z
  .string()
  .trim()
  .regex(/^\d{1,19}$/, 'must be a whole number of minor units')
  .transform((value) => BigInt(value))
  .refine((value) => value >= 1n && value <= BIGINT_MAX, { message: `must be from 1 to ${BIGINT_MAX}` })
  .default(FEE_MINOR_MAX_DEFAULT);

const attributionSchema = z
  .object({
    /** The decider's group (inferences); the table consumer uses `<group>.tables`. */
    ATTRIBUTION_GROUP_ID: kafkaName.default(CONSUMER_GROUPS.attribution),
    ATTRIBUTION_HTTP_PORT: boundedInt(0, 65_535, 3101),
    HTTP_HOST: httpHost,
    /**
     * PostgreSQL connections: more than ATTRIBUTION_PARTITIONS_CONCURRENTLY, since each batch holds one
     * while it waits for the table fold, which needs one of its own.
     */
    ATTRIBUTION_DB_POOL_MAX: boundedInt(2, 100, 10),
    /** Inferences per Kafka transaction. */
    ATTRIBUTION_BATCH_SIZE_MAX: boundedInt(1, 5_000, 2_000),
    ATTRIBUTION_PARTITIONS_CONCURRENTLY: boundedInt(1, 64, 6),
    ATTRIBUTION_TRANSACTION_TIMEOUT_MS: boundedInt(1_000, 900_000, 60_000),
    ATTRIBUTION_ATTEMPTS_MAX: boundedInt(1, 100, 8),
    ATTRIBUTION_RETRY_BACKOFF_MS: boundedInt(1, 60_000, 200),
    /** How long a batch waits for the table consumers to pass its inferences' time before the attempt fails. */
    ATTRIBUTION_ORDERING_WAIT_MS_MAX: boundedInt(100, 600_000, 30_000),
    /**
     * The largest clock skew between the brokers and this service's host, in ms: the join rule on broker
     * time (as-of-append-time/v2) waits this long past an inference's append time before an idle table
     * partition counts as passed it. 0 suits one broker on the decider's machine.
     */
    ATTRIBUTION_ORDERING_GRACE_MS: boundedInt(0, 60_000, 20),
    /** An inference timestamped further than this in the future goes to the DLQ instead of stalling the partition. */
    ATTRIBUTION_CLOCK_SKEW_MS_MAX: boundedInt(0, 3_600_000, 60_000),
    /** Poison limits: an inference above them goes to the DLQ. The schema allows at most 1000 attributions. */
    ATTRIBUTION_ATTRIBUTIONS_MAX: boundedInt(0, 1_000, 1_000),
    ATTRIBUTION_FEE_MINOR_MAX: feeMinorMax,
    /** The protocol treasury credited with the protocol share: account `protocol:<id>`. */
    /**
     * The protocol's share of every fee in basis points (integer 0 to 10000), the operator's policy (v2):
     * models choose only their data share, and one asking more than 10000 minus this is refused. Decisions
     * record it (InferenceAttributed.split.protocolBps), so changing it changes only later decisions.
     */
    ATTRIBUTION_PROTOCOL_BPS: boundedInt(0, 10_000, 1_000),
    ATTRIBUTION_PROTOCOL_ID: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_", ":" or "-"')
      .default('tributary'),
    CONSUMER_SESSION_TIMEOUT_MS: boundedInt(6_000, 300_000, 30_000),
    CONSUMER_REBALANCE_TIMEOUT_MS: boundedInt(6_000, 300_000, 60_000),
    CONSUMER_HEARTBEAT_INTERVAL_MS: boundedInt(500, 60_000, 3_000),
    CONSUMER_MAX_BYTES_PER_PARTITION: boundedInt(1_024, 64 * 1024 * 1024, 4 * 1024 * 1024),
    CONSUMER_MAX_BYTES: boundedInt(1_024, 256 * 1024 * 1024, 32 * 1024 * 1024),
  })
  .superRefine((env, context) => {
    if (env.ATTRIBUTION_DB_POOL_MAX <= env.ATTRIBUTION_PARTITIONS_CONCURRENTLY)
      context.addIssue({
        code: 'custom',
        path: ['ATTRIBUTION_DB_POOL_MAX'],
        message: `must be more than ATTRIBUTION_PARTITIONS_CONCURRENTLY (${env.ATTRIBUTION_PARTITIONS_CONCURRENTLY}): each partition decided at once holds a connection while it waits for the table fold, which needs one of its own`,
      });
  });

/** Everything the attribution service reads from its environment, validated before anything starts. */
export function attributionConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    ...parseEnv('attribution', attributionSchema, env),
    /** Its role's connection (ATTRIBUTION_DB_*), and the owner's (DATABASE_URL) for the owner step only. */
    database: serviceDatabaseConfig('attribution', env),
    ...kafkaEnv(env, 'attribution'),
  };
}
export type AttributionConfig = ReturnType<typeof attributionConfig>;
export const ATTRIBUTION_CONFIG = Symbol('ATTRIBUTION_CONFIG');

/** The operator's split policy the service decides and folds registrations with. */
export function splitPolicy(config: Pick<AttributionConfig, 'ATTRIBUTION_PROTOCOL_BPS'>): SplitPolicy {
  return { version: POLICY_VERSION, protocolBps: config.ATTRIBUTION_PROTOCOL_BPS };
}

/** The table consumer's group: its own offsets (in PostgreSQL) and its own DLQ. */
export function tablesGroupId(config: Pick<AttributionConfig, 'ATTRIBUTION_GROUP_ID'>): string {
  return `${config.ATTRIBUTION_GROUP_ID}.tables`;
}
