// Proves the factory gives every consumer the same written-out options: read_committed and no topic
// creation always, the documented tuning unless a caller overrides a value, and no restart after the
// retries are spent unless the caller bounds one; that clients carry the log creator and defaults; and
// that every producer is idempotent with one request in flight, whatever its role adds.
import { Partitioners, type ConsumerConfig, type Kafka, type KafkaConfig, type ProducerConfig } from 'kafkajs';
/* eslint-disable @typescript-eslint/no-require-imports -- the client case loads the factory against a recording kafkajs */
import {
  createConsumer,
  createIdempotentProducer,
  CONSUMER_TUNING_DEFAULT,
  KAFKA_RETRY_DEFAULT,
  KAFKA_TRANSACTION_RETRY,
} from './kafka-factory';

/** A stand-in client that returns the configuration a consumer or a producer would be made with. */
const recording = {
  consumer: (config: ConsumerConfig) => config,
  producer: (config: ProducerConfig) => config,
} as unknown as Kafka;
const configOf = (options: Parameters<typeof createConsumer>[1]) =>
  createConsumer(recording, options) as unknown as ConsumerConfig;

describe('a consumer made by the factory', () => {
  it('with no tuning given, has every documented default and reads committed records only', async () => {
    const config = configOf({ groupId: 'g' });
    expect(config).toMatchObject({
      groupId: 'g',
      sessionTimeout: CONSUMER_TUNING_DEFAULT.sessionTimeoutMs,
      rebalanceTimeout: CONSUMER_TUNING_DEFAULT.rebalanceTimeoutMs,
      heartbeatInterval: CONSUMER_TUNING_DEFAULT.heartbeatIntervalMs,
      maxBytesPerPartition: CONSUMER_TUNING_DEFAULT.maxBytesPerPartition,
      maxBytes: CONSUMER_TUNING_DEFAULT.maxBytes,
      maxWaitTimeInMs: CONSUMER_TUNING_DEFAULT.maxWaitTimeMs,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      retry: KAFKA_RETRY_DEFAULT,
    });
    await expect(config.retry!.restartOnFailure!(new Error('spent'))).resolves.toBe(false);
  });

  it('takes a caller override and ignores an undefined one', () => {
    const config = configOf({
      groupId: 'g',
      maxWaitTimeMs: 200,
      sessionTimeoutMs: undefined,
      retry: { ...KAFKA_RETRY_DEFAULT, retries: 2 },
    });
    expect(config).toMatchObject({
      maxWaitTimeInMs: 200,
      sessionTimeout: CONSUMER_TUNING_DEFAULT.sessionTimeoutMs,
      retry: { retries: 2 },
    });
  });
});

describe('a producer made by the factory', () => {
  const idempotence = {
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  };

  it('with no role given, is idempotent, one request in flight, creating no topic', () => {
    expect(createIdempotentProducer(recording)).toEqual(idempotence);
  });

  it('adds what its role gives and drops an undefined value', () => {
    const role = { transactionalId: 't-1', transactionTimeout: 30_000, retry: KAFKA_TRANSACTION_RETRY };
    expect(createIdempotentProducer(recording, role)).toEqual({ ...role, ...idempotence });
    expect(createIdempotentProducer(recording, { transactionalId: undefined })).toEqual(idempotence);
  });

  it('keeps idempotence whatever an untyped role tries', () => {
    const loose = { idempotent: false, maxInFlightRequests: 5 } as unknown as Parameters<
      typeof createIdempotentProducer
    >[1];
    expect(createIdempotentProducer(recording, loose)).toEqual(idempotence);
  });
});

describe('a client made by the factory', () => {
  it('logs through kafkaLogCreator, retries boundedly and writes out its timeouts', () => {
    // kafkajs keeps no public copy of its configuration: this records what the factory passes it.
    const passed: KafkaConfig[] = [];
    let logCreator: unknown;
    jest.isolateModules(() => {
      jest.doMock('kafkajs', () => ({
        ...jest.requireActual('kafkajs'),
        Kafka: class {
          constructor(config: KafkaConfig) {
            passed.push(config);
          }
        },
      }));
      (require('./kafka-factory') as typeof import('./kafka-factory')).createKafkaClient({
        clientId: 'c',
        brokers: ['b:1'],
      });
      logCreator = (require('./kafka-log') as typeof import('./kafka-log')).kafkaLogCreator;
    });
    expect(passed[0]).toMatchObject({
      clientId: 'c',
      brokers: ['b:1'],
      retry: KAFKA_RETRY_DEFAULT,
      requestTimeout: 30_000,
      connectionTimeout: 1_000,
    });
    expect(passed[0]!.logCreator).toBe(logCreator);
  });
});
