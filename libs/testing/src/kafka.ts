import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { kafkaClientOptions, kafkaEnv } from '@tributary/config';

/** The broker list global setup chose; a test file that runs without it fails here, loudly. */
export function testBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new Error('KAFKA_BROKERS is not set: run integration tests through jest --selectProjects integration');
  return brokers.split(',');
}

/**
 * Brokers, client id and credentials of the test stack's operator (global setup puts them in the
 * environment): the options a TributaryProducer, a RecordSender or a kafkajs client of a test starts from.
 */
export function testClientOptions(clientId = 'tributary-test') {
  testBrokers();
  return kafkaClientOptions(kafkaEnv(process.env), clientId);
}

/** A kafkajs client as the test stack's operator. */
export function testKafka(clientId = 'tributary-test'): Kafka {
  return new Kafka({ ...testClientOptions(clientId), logLevel: logLevel.NOTHING });
}

/** A name no other test uses, so test files can share one broker without seeing each other's records. */
export function uniqueName(prefix: string): string {
  return `${prefix}.${randomUUID().slice(0, 8)}`;
}

export async function withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka('tributary-test-admin').admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads records from a topic from the beginning with a plain kafkajs consumer until `count` arrived (or
 * a record satisfies `until`) or `timeoutMs` passed; returns what it read either way, so a test's
 * assertion shows the difference.
 */
export async function readTopic(
  topic: string,
  countOrUntil: number | ((message: KafkaMessage) => boolean),
  timeoutMs = 30_000,
): Promise<KafkaMessage[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('test-reader'), readUncommitted: false });
  const messages: KafkaMessage[] = [];
  const done = (message: KafkaMessage) =>
    typeof countOrUntil === 'number' ? messages.length >= countOrUntil : countOrUntil(message);
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          messages.push(message);
          if (done(message)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** A record's headers as text, by name: what a test compares (CloudEvents ids, DLQ reasons). */
export const headersOf = (message: KafkaMessage): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, value?.toString()]));
