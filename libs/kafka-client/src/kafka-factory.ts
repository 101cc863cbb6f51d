/**
 * The one place Tributary makes kafkajs clients and consumers, so each option is chosen once, written
 * out (never left to a kafkajs default a reader would have to look up) and documented here. Callers
 * override a tuning value only for a reason their role gives, said where they do it. Works with any
 * kafkajs 2.x and imports nothing of Nest or TypeORM: the producer client uses it too.
 */
import {
  Kafka,
  logLevel,
  Partitioners,
  type Consumer,
  type KafkaConfig,
  type Producer,
  type ProducerConfig,
} from 'kafkajs';
import { kafkaLogCreator } from './kafka-log';

/** How a client retries a failed request: bounded, as every wait in this system is. */
export interface KafkaRetry {
  /** Retries after the first attempt; past them the request fails (a consumer then crashes, see restartOnFailure). */
  readonly retries: number;
  readonly initialRetryTime: number;
  readonly maxRetryTime: number;
}

/**
 * Broker hiccups (a coordinator still loading, a leader moving) take seconds: eight retries doubling
 * from 300 ms to at most 10 s cover about a minute before a request fails.
 */
export const KAFKA_RETRY_DEFAULT: KafkaRetry = { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 };

/**
 * For transactional producers that start one transaction right after another: until the previous commit's
 * markers are written, the coordinator answers the next transaction's first request with
 * CONCURRENT_TRANSACTIONS, for a few milliseconds. Retried after 300 ms (the default), every such answer
 * put 300 ms into the tail of the pipeline's latency (seen in bench:latency); 20 ms first, then doubling.
 */
export const KAFKA_TRANSACTION_RETRY: KafkaRetry = { ...KAFKA_RETRY_DEFAULT, initialRetryTime: 20 };

export interface KafkaClientOptions {
  readonly clientId: string;
  readonly brokers: readonly string[];
  /** TLS towards the brokers (kafkajs's `ssl`); with sasl, from libs/config kafkaSecurityOptions. */
  readonly ssl?: KafkaConfig['ssl'];
  /** The principal's credentials (kafkajs's `sasl`). */
  readonly sasl?: KafkaConfig['sasl'];
  /** Default WARN: kafkajs's INFO lines (every join, every commit) would drown a service's own. */
  readonly logLevel?: logLevel;
  readonly retry?: KafkaRetry;
  /** How long one request may wait for its answer; default 30 s (kafkajs 2.x's own default). */
  readonly requestTimeoutMs?: number;
  /** How long opening a connection may take; default 1 s (kafkajs 2.x's own default). */
  readonly connectionTimeoutMs?: number;
}

export const REQUEST_TIMEOUT_MS_DEFAULT = 30_000;
export const CONNECTION_TIMEOUT_MS_DEFAULT = 1_000;

/** A kafkajs client whose log lines go through kafkaLogCreator (JSON lines, less a warning every producer would print). */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: options.logLevel ?? logLevel.WARN,
    logCreator: kafkaLogCreator,
    retry: { ...(options.retry ?? KAFKA_RETRY_DEFAULT) },
    requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT,
    connectionTimeout: options.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS_DEFAULT,
    ...(options.ssl ? { ssl: options.ssl } : {}),
    ...(options.sasl ? { sasl: options.sasl } : {}),
  });
}

/** The tuning of a consumer: every value kafkajs would otherwise default, each with its reason. */
export interface ConsumerTuning {
  /** The broker drops a member it has not heard from for this long and rebalances its partitions. */
  readonly sessionTimeoutMs: number;
  /** How long a rebalance waits for every member to rejoin. */
  readonly rebalanceTimeoutMs: number;
  /** A third of the session timeout or less, so two heartbeats may be lost without losing the session. */
  readonly heartbeatIntervalMs: number;
  /** What one fetch may bring of one partition, and of all together. */
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  /** How long the broker holds a fetch that finds nothing new: the latency of a quiet topic. */
  readonly maxWaitTimeMs: number;
  readonly retry: KafkaRetry;
  /**
   * Asked when the consumer's retries are spent: true restarts it (rejoining the group), false stops it
   * with a CRASH event the caller handles. Default false: a restart must be bounded by its caller.
   */
  readonly restartOnFailure: (error: Error) => Promise<boolean>;
}

/**
 * The tuning every consumer starts from: a long-lived group member reading event topics whose batches
 * each take one database transaction. 4 MiB of a partition (32 MiB in all) per fetch keeps a projector's
 * batches full; half a second of waiting is well below any latency the services promise.
 */
export const CONSUMER_TUNING_DEFAULT: ConsumerTuning = {
  sessionTimeoutMs: 30_000,
  rebalanceTimeoutMs: 60_000,
  heartbeatIntervalMs: 3_000,
  maxBytesPerPartition: 4 * 1024 * 1024,
  maxBytes: 32 * 1024 * 1024,
  maxWaitTimeMs: 500,
  retry: KAFKA_RETRY_DEFAULT,
  restartOnFailure: async () => false,
};

export interface ConsumerOptions extends Partial<ConsumerTuning> {
  /** Used exactly as given: Kafka's tooling and lag monitors see this name. */
  readonly groupId: string;
}

/**
 * A consumer that reads committed records only (read_committed: every Tributary topic has
 * transactional producers, and a record of an aborted transaction must never reach a handler) and never
 * creates a topic (topics are provisioned with their catalog settings, libs/contracts).
 */
export function createConsumer(kafka: Kafka, options: ConsumerOptions): Consumer {
  const tuning: ConsumerTuning = { ...CONSUMER_TUNING_DEFAULT, ...definedOnly(options) };
  return kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: tuning.sessionTimeoutMs,
    rebalanceTimeout: tuning.rebalanceTimeoutMs,
    heartbeatInterval: tuning.heartbeatIntervalMs,
    maxBytesPerPartition: tuning.maxBytesPerPartition,
    maxBytes: tuning.maxBytes,
    maxWaitTimeInMs: tuning.maxWaitTimeMs,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    retry: { ...tuning.retry, restartOnFailure: tuning.restartOnFailure },
  });
}

/** What a producer's role may add: a transactional id (with its timeout) and a retry policy of its own. */
export type ProducerRole = Pick<ProducerConfig, 'transactionalId' | 'transactionTimeout' | 'retry'>;

/**
 * A producer as every Tributary producer is made: idempotent (acks=all), one request in flight (kafkajs
 * keeps ordering and idempotence only so), never creating a topic, and kafkajs's default partitioner
 * (murmur2 of the key, as Java's; named only to spare kafkajs's warning about it).
 */
export function createIdempotentProducer(kafka: Kafka, role: ProducerRole = {}): Producer {
  return kafka.producer({
    ...definedOnly(role),
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
