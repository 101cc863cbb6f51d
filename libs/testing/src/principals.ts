import * as fs from 'node:fs';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { kafkaSecurityOptions, localBrokerFiles, Secret } from '@tributary/config';
import { testBrokers } from './kafka';

/** The test broker's name (global setup sets it when it started the local secured broker). */
export function testKafkaName(): string {
  const name = process.env.TRIBUTARY_TEST_KAFKA_NAME;
  if (!name)
    throw new Error('TRIBUTARY_TEST_KAFKA_NAME is not set: the security specs need the local secured test broker');
  return name;
}

/** The environment a service process needs to run as its own principal on the test broker. */
export function principalEnv(principal: string): Record<string, string> {
  const files = localBrokerFiles(testKafkaName());
  return {
    KAFKA_BROKERS: testBrokers().join(','),
    KAFKA_SECURITY: 'sasl_ssl',
    KAFKA_USERNAME: principal,
    KAFKA_PASSWORD_FILE: files.passwordFile(principal),
    KAFKA_CA_FILE: files.caCertificate,
  };
}

/** A kafkajs client authenticating as `username` with `password` (the service's own, when none is given). */
export function kafkaAs(username: string, password?: string, clientId = `test-as-${username}`): Kafka {
  const files = localBrokerFiles(testKafkaName());
  const secret = password ?? fs.readFileSync(files.passwordFile(username), 'utf8').trim();
  return new Kafka({
    clientId,
    brokers: testBrokers(),
    logLevel: logLevel.NOTHING,
    // A refusal must fail the call at once, not after kafkajs's retries.
    retry: { retries: 0 },
    connectionTimeout: 5_000,
    ...kafkaSecurityOptions({
      mode: 'sasl_ssl',
      username,
      password: new Secret(secret),
      caPem: fs.readFileSync(files.caCertificate, 'utf8'),
    }),
  });
}

const CAUSE_DEPTH_MAX = 8;

/** What Kafka answered a refused call with: the broker's error code, else kafkajs's error class. */
export function kafkaRefusal(error: unknown): string {
  let current = error as
    { type?: string; name?: string; originalError?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
  for (let depth = 0; current && depth < CAUSE_DEPTH_MAX; depth += 1) {
    if (current.type && current.type !== 'UNKNOWN') return current.type;
    if (current.name === 'KafkaJSSASLAuthenticationError') return current.name;
    current = (current.originalError ?? current.cause ?? current.errors?.[0]) as typeof current;
  }
  return (error as Error).name ?? String(error);
}

/**
 * Sends records with a fresh producer of `kafka` and says what Kafka answered: 'accepted', or the
 * refusal (kafkaRefusal). An attack spec asserts the answer, then that nothing landed.
 */
export async function tryProduce(kafka: Kafka, topic: string, messages: Message[]): Promise<string> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  try {
    await producer.connect();
    await producer.send({ topic, messages, acks: -1 });
    return 'accepted';
  } catch (error) {
    return kafkaRefusal(error);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}
