// Smoke test of kafkajs against the pinned Kafka: every client feature Tributary relies on, run against
// a real broker. Exits non-zero when any check fails. Used to pick KAFKA_VERSION (see README.md).
//   npx ts-node --transpile-only -r tsconfig-paths/register deploy/kafka/src/compat-check.ts [--brokers host:port]
// Without --brokers it starts its own broker ('compat' on port 19192) and stops it afterwards; with
// --brokers it connects as KAFKA_USERNAME etc. say (libs/config), and Kafka's tools use KAFKA_COMMAND_CONFIG.
import { type Admin, Kafka, Partitioners, logLevel } from 'kafkajs';
import { kafkaClientOptions, kafkaEnv } from '@tributary/config';
import { randomUUID } from 'node:crypto';
import { startKafka } from './broker';
import { credentialFiles } from './credentials';
import { ProvisionError, formatProvisionError } from './errors';
import { runKafkaCli } from './tools';
import { KAFKA_VERSION } from './version';

const COMPAT_PORT = 19192;
const MESSAGE_COUNT = 5;
const CONSUME_TIMEOUT_MS = 30_000;

interface Context {
  kafka: Kafka;
  admin: Admin;
  brokers: string;
  /** `--command-config` for Kafka's own tools (the operator's Java client config); none on plaintext. */
  commandConfig: string | undefined;
  topic: string;
  groupId: string;
  txnGroupId: string;
}

type Check = [name: string, run: (context: Context) => Promise<void>];

export const checks: Check[] = [
  ['admin.createTopics with configs', createTopic],
  ['admin.describeConfigs', describeTopicConfigs],
  ['idempotent producer send', produceIdempotent],
  ['admin.fetchTopicOffsets', fetchTopicOffsets],
  ['consumer group join + consume + commit', consumeAndCommit],
  ['admin.fetchOffsets (committed by consumer)', fetchCommittedOffsets],
  ['consumer resumes from committed offset (OffsetFetch)', resumeFromCommitted],
  ['transactional producer send + sendOffsets + commit', produceTransactional],
  ['transactional producer abort is invisible to read_committed', abortTransaction],
  ['admin.fetchOffsets (committed by transaction.sendOffsets)', fetchTransactionalOffsets],
  ['kafka-consumer-groups --describe shows kafkajs offsets', describeGroupWithCli],
  ['admin.deleteTopics', deleteTopic],
];

function assertThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function createTopic({ admin, topic }: Context): Promise<void> {
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: 1,
        replicationFactor: 1,
        configEntries: [
          { name: 'retention.ms', value: '-1' },
          { name: 'min.insync.replicas', value: '1' },
        ],
      },
    ],
  });
  assertThat(created, `createTopics returned false for ${topic}`);
}

async function describeTopicConfigs({ admin, topic }: Context): Promise<void> {
  const result = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2 /* ConfigResourceTypes.TOPIC */, name: topic, configNames: ['retention.ms'] }],
  });
  const value = result.resources[0]?.configEntries.find((entry) => entry.configName === 'retention.ms')?.configValue;
  assertThat(value === '-1', `retention.ms is '${value}', expected '-1'`);
}

async function produceIdempotent({ kafka, topic }: Context): Promise<void> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const messages = Array.from({ length: MESSAGE_COUNT }, (_, index) => ({
      key: `k${index}`,
      value: `idempotent-${index}`,
    }));
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

async function fetchTopicOffsets({ admin, topic }: Context): Promise<void> {
  const offsets = await admin.fetchTopicOffsets(topic);
  assertThat(
    offsets[0]?.high === String(MESSAGE_COUNT),
    `high watermark ${offsets[0]?.high}, expected ${MESSAGE_COUNT}`,
  );
}

/** Joins `groupId`, reads until `count` messages arrived, commits, leaves. Returns the values read. */
async function consume(kafka: Kafka, groupId: string, topic: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${values.length}/${count} messages in ${CONSUME_TIMEOUT_MS} ms`)),
        CONSUME_TIMEOUT_MS,
      );
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
      void consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ message, partition }) => {
            values.push(message.value?.toString() ?? '');
            await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
            if (values.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

async function consumeAndCommit({ kafka, groupId, topic }: Context): Promise<void> {
  const values = await consume(kafka, groupId, topic, MESSAGE_COUNT);
  assertThat(values[0] === 'idempotent-0', `first value '${values[0]}'`);
}

async function committedOffset(admin: Admin, groupId: string, topic: string): Promise<string | undefined> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets[0]?.partitions[0]?.offset;
}

async function fetchCommittedOffsets({ admin, groupId, topic }: Context): Promise<void> {
  const offset = await committedOffset(admin, groupId, topic);
  assertThat(offset === String(MESSAGE_COUNT), `committed offset ${offset}, expected ${MESSAGE_COUNT}`);
}

async function resumeFromCommitted({ kafka, groupId, topic }: Context): Promise<void> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value: 'after-commit' }] });
  await producer.disconnect();
  const values = await consume(kafka, groupId, topic, 1);
  assertThat(values[0] === 'after-commit', `resumed at '${values[0]}', expected 'after-commit'`);
}

async function produceTransactional({ kafka, topic, txnGroupId }: Context): Promise<void> {
  const producer = kafka.producer({
    transactionalId: `compat-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const transaction = await producer.transaction();
    try {
      await transaction.send({ topic, messages: [{ key: 'txn', value: 'committed-in-txn' }] });
      await transaction.sendOffsets({
        consumerGroupId: txnGroupId,
        topics: [{ topic, partitions: [{ partition: 0, offset: '3' }] }],
      });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  } finally {
    await producer.disconnect();
  }
}

async function abortTransaction({ kafka, admin, topic }: Context): Promise<void> {
  const producer = kafka.producer({
    transactionalId: `compat-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const transaction = await producer.transaction();
  await transaction.send({ topic, messages: [{ value: 'aborted-in-txn' }] });
  await transaction.abort();
  await producer.disconnect();
  const groupId = `compat-read-committed-${randomUUID()}`;
  const expected = MESSAGE_COUNT + 2; // idempotent batch + after-commit + committed-in-txn
  const values = await consume(kafka, groupId, topic, expected);
  assertThat(!values.includes('aborted-in-txn'), 'read_committed consumer saw an aborted message');
  assertThat(values.includes('committed-in-txn'), 'read_committed consumer missed the committed transaction');
  await admin.deleteGroups([groupId]);
}

async function fetchTransactionalOffsets({ admin, txnGroupId, topic }: Context): Promise<void> {
  const offset = await committedOffset(admin, txnGroupId, topic);
  assertThat(offset === '3', `offset committed by sendOffsets is ${offset}, expected 3`);
}

async function describeGroupWithCli({ brokers, commandConfig, groupId, topic }: Context): Promise<void> {
  const result = await runKafkaCli('kafka-consumer-groups', [
    '--bootstrap-server',
    brokers,
    ...commandConfigArgs(commandConfig),
    '--describe',
    '--group',
    groupId,
  ]);
  assertThat(result.code === 0, `kafka-consumer-groups exited ${result.code}: ${result.stderr.trim()}`);
  const row = result.stdout.split('\n').find((line) => line.includes(topic));
  const currentOffset = row?.trim().split(/\s+/)[3];
  assertThat(
    currentOffset === String(MESSAGE_COUNT + 1),
    `CURRENT-OFFSET '${currentOffset}', expected ${MESSAGE_COUNT + 1}:\n${result.stdout}`,
  );
}

async function deleteTopic({ admin, topic }: Context): Promise<void> {
  await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  const topics = await admin.listTopics();
  assertThat(!topics.includes(topic), `${topic} still listed after deleteTopics`);
}

/** A fresh topic and group names, so the checks can run against a broker that other work shares. */
export function commandConfigArgs(commandConfig: string | undefined): string[] {
  return commandConfig ? ['--command-config', commandConfig] : [];
}

export function compatContext(brokers: string, commandConfig: string | undefined, admin: Admin, kafka: Kafka): Context {
  const suffix = randomUUID().slice(0, 8);
  return {
    kafka,
    admin,
    brokers,
    commandConfig,
    topic: `compat.check.${suffix}`,
    groupId: `compat-group-${suffix}`,
    txnGroupId: `compat-txn-group-${suffix}`,
  };
}

async function runChecks(env: NodeJS.ProcessEnv, commandConfig: string | undefined): Promise<number> {
  const config = kafkaEnv(env);
  const kafka = new Kafka({ ...kafkaClientOptions(config, 'tributary-compat-check'), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const context = compatContext(config.KAFKA_BROKERS.join(','), commandConfig, admin, kafka);
  let failedCount = 0;
  for (const [name, run] of checks) {
    try {
      await run(context);
      process.stdout.write(`PASS  ${name}\n`);
    } catch (error) {
      failedCount += 1;
      process.stdout.write(`FAIL  ${name}: ${(error as Error).name}: ${(error as Error).message}\n`);
    }
  }
  await admin.disconnect();
  return failedCount;
}

async function main(argv: string[]): Promise<void> {
  const brokersIndex = argv.indexOf('--brokers');
  const givenBrokers = brokersIndex >= 0 ? argv[brokersIndex + 1] : undefined;
  const broker = givenBrokers
    ? undefined
    : await startKafka({ port: COMPAT_PORT, name: 'compat', log: (line) => process.stderr.write(`${line}\n`) });
  const brokers = givenBrokers ?? broker!.brokers;
  process.stdout.write(`kafkajs compatibility check against Apache Kafka ${KAFKA_VERSION} on ${brokers}\n`);
  try {
    const env = broker
      ? { ...process.env, ...broker.clientEnv('operator') }
      : { ...process.env, KAFKA_BROKERS: brokers };
    const commandConfig = broker
      ? broker.security === 'sasl_ssl'
        ? credentialFiles('compat').clientProperties('operator')
        : undefined
      : process.env.KAFKA_COMMAND_CONFIG;
    const failedCount = await runChecks(env, commandConfig);
    process.stdout.write(failedCount === 0 ? 'all checks passed\n' : `${failedCount} check(s) failed\n`);
    process.exitCode = failedCount === 0 ? 0 : 1;
  } finally {
    await broker?.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof ProvisionError ? formatProvisionError(error) : String((error as Error).stack ?? error)}\n`,
    );
    process.exitCode = 1;
  });
}
