import { KAFKA_VERSION, startKafka } from '@tributary/kafka-provisioner';
import { ensurePostgres } from '@tributary/local-stack';
import { startRegistry } from '@tributary/registry-provisioner';
import { SCHEMA_REGISTRY_URL } from '@tributary/schema-registry';
import { localBrokerFiles } from '@tributary/config';
import { OPERATOR_PRINCIPAL } from '@tributary/contracts';

/** Where the integration suite finds its broker and database; global setup fills it in, workers read it. */
export interface TestStack {
  readonly mode: 'given' | 'testcontainers' | 'local';
  readonly brokers: string;
  readonly databaseUrl: string;
  /** What every test process inherits: the broker, and the operator's credentials to reach it. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/** The local test broker's name under the cache; security specs administer its principals by it. */
export const TEST_KAFKA_NAME = 'test';

export const TEST_KAFKA_PORT_DEFAULT = 19092;
/** The test registry's name under the cache, and its HTTP port (TEST_REGISTRY_PORT; management takes + 1). */
export const TEST_REGISTRY_NAME = 'test';
export const TEST_REGISTRY_PORT_DEFAULT = 18081;
export const TEST_DATABASE_URL_DEFAULT = 'postgres://postgres@127.0.0.1:5432/tributary_test';

/**
 * Brings up the real Kafka and PostgreSQL the integration tests talk to, in this order of preference:
 * what KAFKA_BROKERS and DATABASE_URL name (with the KAFKA_* credentials given beside them); containers,
 * when TRIBUTARY_TEST_DOCKER=1 and a Docker engine answers; otherwise a secured KRaft broker from
 * Kafka's own jars (deploy/kafka) and the local PostgreSQL server, with Apicurio Registry (deploy/registry)
 * storing its schemas in its own database there (SCHEMA_REGISTRY_URL; given beside KAFKA_BROKERS, it is
 * used as it is). Tests run as the operator unless a
 * test says otherwise; the services' own principals are exercised by the security specs.
 */
export async function startTestStack(log: (line: string) => void): Promise<TestStack> {
  const { KAFKA_BROKERS: brokers, DATABASE_URL: databaseUrl } = process.env;
  if (brokers && databaseUrl) {
    await ensurePostgres(databaseUrl, log);
    return {
      mode: 'given',
      brokers,
      databaseUrl,
      env: {
        KAFKA_BROKERS: brokers,
        DATABASE_URL: databaseUrl,
        ...(process.env[SCHEMA_REGISTRY_URL] ? { [SCHEMA_REGISTRY_URL]: process.env[SCHEMA_REGISTRY_URL] } : {}),
      },
      stop: async () => undefined,
    };
  }
  if (process.env.TRIBUTARY_TEST_DOCKER === '1' && (await dockerAnswers())) return startContainers(log);
  return startLocal(log);
}

async function startLocal(log: (line: string) => void): Promise<TestStack> {
  const port = Number(process.env.TEST_KAFKA_PORT ?? TEST_KAFKA_PORT_DEFAULT);
  const databaseUrl = process.env.DATABASE_URL ?? TEST_DATABASE_URL_DEFAULT;
  const registryPort = Number(process.env.TEST_REGISTRY_PORT ?? TEST_REGISTRY_PORT_DEFAULT);
  const [kafka, registry] = await Promise.all([
    startKafka({ port, name: TEST_KAFKA_NAME, log, security: 'sasl_ssl' }),
    ensurePostgres(databaseUrl, log).then(() =>
      startRegistry({ name: TEST_REGISTRY_NAME, port: registryPort, ownerDatabaseUrl: databaseUrl, log }),
    ),
  ]);
  log(
    `test stack: Kafka ${KAFKA_VERSION} at ${kafka.brokers} (local KRaft, ${kafka.security}), PostgreSQL at ${new URL(databaseUrl).host}, schema registry at ${registry.ccompatUrl}`,
  );
  const env = {
    ...kafka.clientEnv(OPERATOR_PRINCIPAL),
    // Kafka's own CLI tools take the operator's Java client config with --command-config.
    KAFKA_COMMAND_CONFIG: localBrokerFiles(TEST_KAFKA_NAME).clientProperties(OPERATOR_PRINCIPAL),
    TRIBUTARY_TEST_KAFKA_NAME: TEST_KAFKA_NAME,
    DATABASE_URL: databaseUrl,
    ...registry.clientEnv(),
  };
  // A broker or registry found running is left running: another run (a developer's, a second jest) is using it.
  return {
    mode: 'local',
    brokers: kafka.brokers,
    databaseUrl,
    env,
    stop: async () => {
      await Promise.all([
        kafka.startedHere ? kafka.stop() : undefined,
        registry.startedHere ? registry.stop() : undefined,
      ]);
    },
  };
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
  // Containers run Kafka without security: the security specs need the local secured broker.
  log('test stack: a Docker engine answers; starting Kafka (plaintext) and PostgreSQL containers');
  const [kafka, postgres] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start(),
    new PostgreSqlContainer('postgres:15').withDatabase('tributary_test').start(),
  ]);
  const brokers = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
  return {
    mode: 'testcontainers',
    brokers,
    databaseUrl: postgres.getConnectionUri(),
    env: { KAFKA_BROKERS: brokers, KAFKA_SECURITY: 'plaintext', DATABASE_URL: postgres.getConnectionUri() },
    stop: async () => {
      await Promise.all([kafka.stop(), postgres.stop()]);
    },
  };
}
