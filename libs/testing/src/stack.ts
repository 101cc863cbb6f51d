import { KAFKA_VERSION, startKafka, type RunningKafka } from '@tributary/kafka-provisioner';
import { ensurePostgres } from '@tributary/local-stack';

/** Where the integration suite finds its broker and database; global setup fills it in, workers read it. */
export interface TestStack {
  readonly mode: 'given' | 'testcontainers' | 'local';
  readonly brokers: string;
  readonly databaseUrl: string;
  stop(): Promise<void>;
}

export const TEST_KAFKA_PORT_DEFAULT = 19092;
export const TEST_DATABASE_URL_DEFAULT = 'postgres://postgres@127.0.0.1:5432/tributary_test';

/**
 * Brings up the real Kafka and PostgreSQL the integration tests talk to, in this order of preference:
 * what KAFKA_BROKERS and DATABASE_URL name; containers, where a Docker engine answers; otherwise a
 * KRaft broker from Kafka's own jars (deploy/kafka) and the local PostgreSQL server.
 */
export async function startTestStack(log: (line: string) => void): Promise<TestStack> {
  const { KAFKA_BROKERS: brokers, DATABASE_URL: databaseUrl } = process.env;
  if (brokers && databaseUrl) {
    await ensurePostgres(databaseUrl, log);
    return { mode: 'given', brokers, databaseUrl, stop: async () => undefined };
  }
  if (process.env.TRIBUTARY_TEST_DOCKER !== '0' && (await dockerAnswers())) return startContainers(log);
  return startLocal(log);
}

async function startLocal(log: (line: string) => void): Promise<TestStack> {
  const port = Number(process.env.TEST_KAFKA_PORT ?? TEST_KAFKA_PORT_DEFAULT);
  const databaseUrl = process.env.DATABASE_URL ?? TEST_DATABASE_URL_DEFAULT;
  const [kafka] = await Promise.all([
    process.env.KAFKA_BROKERS ? null : startKafka({ port, name: 'test', log }),
    ensurePostgres(databaseUrl, log),
  ]);
  const brokers = process.env.KAFKA_BROKERS ?? (kafka as RunningKafka).brokers;
  log(`test stack: Kafka ${KAFKA_VERSION} at ${brokers} (local KRaft), PostgreSQL at ${new URL(databaseUrl).host}`);
  return { mode: 'local', brokers, databaseUrl, stop: async () => kafka?.stop() };
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function startContainers(log: (line: string) => void): Promise<TestStack> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  log('test stack: a Docker engine answers; starting Kafka and PostgreSQL containers');
  const [kafka, postgres] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start(),
    new PostgreSqlContainer('postgres:15').withDatabase('tributary_test').start(),
  ]);
  return {
    mode: 'testcontainers',
    brokers: `${kafka.getHost()}:${kafka.getMappedPort(9093)}`,
    databaseUrl: postgres.getConnectionUri(),
    stop: async () => {
      await Promise.all([kafka.stop(), postgres.stop()]);
    },
  };
}
