import { z } from 'zod';
import { boundedInt, kafkaEnv, kafkaName, parseEnv } from '@tributary/config';
import type { KafkaBatchTransportOptions } from './kafka-batch.transport';

/**
 * The consumer settings every Tributary consumer reads from its environment, each bounded. Every
 * kafkajs option the transport passes on is written out here rather than left to a library default.
 */
const consumerSchema = z.object({
  CONSUMER_BATCH_SIZE_MAX: boundedInt(1, 10_000, 500),
  CONSUMER_MAX_BYTES_PER_PARTITION: boundedInt(1_024, 64 * 1024 * 1024, 4 * 1024 * 1024),
  CONSUMER_MAX_BYTES: boundedInt(1_024, 256 * 1024 * 1024, 32 * 1024 * 1024),
  CONSUMER_SESSION_TIMEOUT_MS: boundedInt(6_000, 300_000, 30_000),
  CONSUMER_REBALANCE_TIMEOUT_MS: boundedInt(6_000, 300_000, 60_000),
  CONSUMER_HEARTBEAT_INTERVAL_MS: boundedInt(500, 60_000, 3_000),
  // Every partition of an event topic (6) at once: kafkajs fetches again only once all of a fetch's
  // batches are done, so one at a time made each partition's batch wait for the others' transactions.
  // A service whose partitions' transactions write the same rows sets a lower default of its own.
  CONSUMER_PARTITIONS_CONCURRENTLY: boundedInt(1, 64, 6),
  CONSUMER_HANDLER_ATTEMPTS_MAX: boundedInt(1, 100, 8),
  CONSUMER_HANDLER_RETRY_BACKOFF_MS: boundedInt(1, 60_000, 200),
  // Kafka's copy of offsets kept in the database, for lag tools: one commit for all partitions at most
  // this often, instead of one per batch in the batch's path (lag-copy-commits.ts).
  CONSUMER_LAG_COMMIT_INTERVAL_MS: boundedInt(0, 60_000, 200),
});
export type ConsumerEnv = z.infer<typeof consumerSchema>;

/** A service's own defaults for some of the settings, where its work is not the common case; the environment still wins. */
export type ConsumerDefaults = Partial<ConsumerEnv>;

export function consumerEnv(env: NodeJS.ProcessEnv = process.env, defaults: ConsumerDefaults = {}): ConsumerEnv {
  const withDefaults: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(defaults)) withDefaults[name] ??= String(value);
  return parseEnv('consumer', consumerSchema, withDefaults);
}

/** Builds the transport's options for one named group from the validated environment. */
export function transportOptionsFrom(
  groupId: string,
  env: NodeJS.ProcessEnv = process.env,
  extra: Pick<KafkaBatchTransportOptions, 'offsetStore' | 'onFatal' | 'onPositionSkipped'> = {},
  /** The principal this consumer authenticates as when KAFKA_USERNAME is not set. */
  principal = 'operator',
  defaults: ConsumerDefaults = {},
): KafkaBatchTransportOptions {
  const kafka = kafkaEnv(env, principal);
  const consumer = consumerEnv(env, defaults);
  return {
    brokers: kafka.KAFKA_BROKERS,
    clientId: kafka.KAFKA_CLIENT_ID,
    security: kafka.kafkaSecurity,
    groupId: kafkaName.parse(groupId),
    fromBeginning: true,
    batchSizeMax: consumer.CONSUMER_BATCH_SIZE_MAX,
    maxBytesPerPartition: consumer.CONSUMER_MAX_BYTES_PER_PARTITION,
    maxBytes: consumer.CONSUMER_MAX_BYTES,
    sessionTimeoutMs: consumer.CONSUMER_SESSION_TIMEOUT_MS,
    rebalanceTimeoutMs: consumer.CONSUMER_REBALANCE_TIMEOUT_MS,
    heartbeatIntervalMs: consumer.CONSUMER_HEARTBEAT_INTERVAL_MS,
    partitionsConsumedConcurrently: consumer.CONSUMER_PARTITIONS_CONCURRENTLY,
    handlerAttemptsMax: consumer.CONSUMER_HANDLER_ATTEMPTS_MAX,
    handlerRetryBackoffMs: consumer.CONSUMER_HANDLER_RETRY_BACKOFF_MS,
    lagCommitIntervalMs: consumer.CONSUMER_LAG_COMMIT_INTERVAL_MS,
    ...extra,
  };
}
