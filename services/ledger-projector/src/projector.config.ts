import { z } from 'zod';
import { boundedInt, httpHost, kafkaName, parseEnv } from '@tributary/config';
import { serviceDatabaseConfig } from '@tributary/persistence';
import { CONSUMER_GROUPS } from '@tributary/contracts';
import {
  transportOptionsFrom,
  type ConsumerDefaults,
  type KafkaBatchTransportOptions,
  type OffsetStore,
} from '@tributary/messaging';

const projectorSchema = z.object({
  LEDGER_PROJECTOR_GROUP_ID: kafkaName.default(CONSUMER_GROUPS.ledgerProjector),
  LEDGER_PROJECTOR_HTTP_PORT: boundedInt(0, 65_535, 3102),
  HTTP_HOST: httpHost,
  LEDGER_PROJECTOR_DB_POOL_MAX: boundedInt(1, 100, 10),
  LEDGER_PROJECTOR_LAG_SAMPLE_MS: boundedInt(500, 600_000, 5_000),
});

/** Everything the projector reads from its environment, validated before anything starts. */
export function projectorConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    ...parseEnv('ledger-projector', projectorSchema, env),
    /** Its role's connection (LEDGER_PROJECTOR_DB_*), and the owner's (DATABASE_URL) for the owner step only. */
    database: serviceDatabaseConfig('ledger-projector', env),
  };
}
export type ProjectorConfig = ReturnType<typeof projectorConfig>;
export const PROJECTOR_CONFIG = Symbol('PROJECTOR_CONFIG');

/**
 * Two partitions at once, where other consumers take all six. Every partition's transaction adds to the
 * same rows (the model's revenue, the protocol's and the model owner's balances and credits, the
 * producer's funding), so with six at once the transactions queued on those rows' locks, and with one
 * at a time each waited for the last one's commit. At 1,000 events/s the projection stage took about
 * 40% less time with two than with six (bench/notes/2026-12-06-latency.md, eleventh pass).
 * CONSUMER_PARTITIONS_CONCURRENTLY still sets it.
 */
export const PROJECTOR_CONSUMER_DEFAULTS: ConsumerDefaults = { CONSUMER_PARTITIONS_CONCURRENTLY: 2 };

/** The projector's consumer: its group, its principal, its offsets kept beside the ledger, its defaults. */
export function projectorTransportOptions(
  config: Pick<ProjectorConfig, 'LEDGER_PROJECTOR_GROUP_ID'>,
  offsetStore: OffsetStore,
  env: NodeJS.ProcessEnv = process.env,
): KafkaBatchTransportOptions {
  return transportOptionsFrom(
    config.LEDGER_PROJECTOR_GROUP_ID,
    env,
    { offsetStore },
    'ledger-projector',
    PROJECTOR_CONSUMER_DEFAULTS,
  );
}
