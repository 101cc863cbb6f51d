import 'reflect-metadata';
import { installKafkaWireFastPaths, OffsetsByTimestampReader } from '@tributary/kafka-wire';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import { createKafkaClient } from '@tributary/kafka-client';
import { exitOnStartupFailure, kafkaClientOptions, logLevels } from '@tributary/config';
import { deadLetterTopicSpec, maxMessageBytes, TOPICS, topicPrefix } from '@tributary/contracts';
import {
  ensureTopicCatalog,
  ensureTopics,
  installWireFraming,
  KafkaBatchTransport,
  TransactionalProcessor,
  topicsEnv,
  transportOptionsFrom,
} from '@tributary/messaging';
import { ownerStepAtStartUp, PostgresOffsetStore } from '@tributary/persistence';
import { attributionConfig, splitPolicy, tablesGroupId, type AttributionConfig } from './attribution.config';
import { AttributionModule } from './attribution.module';
import { ownerMigrations } from './database/data-source-options';
import { adminTableOffsets, Decider, type TableOffsets } from './decision/decider';
import { DecisionStore } from './decision/decision-store';
import { DecisionLoopLifecycle } from './decision/decision-loop.lifecycle';
import { AttributionMetrics } from './metrics/attribution-metrics';
import { TableProgressSignal } from './state/progress-signal';
import { StateStore } from './state/state-store';

// kafkajs's wire fast paths, in place before any producer sends or consumer fetches (libs/kafka-wire).
installKafkaWireFastPaths();

/**
 * The attribution service: folds the datanet, contribution and model topics into table state
 * (offsets in PostgreSQL), and decides every inference once in a Kafka transaction.
 */
async function bootstrap(): Promise<void> {
  const config = attributionConfig();
  // The schema registry's ids, before any decision is built: with them every record is Confluent-framed.
  const framing = await installWireFraming('attribution');
  await ownerStepAtStartUp(config.database, ownerMigrations);
  const app = await NestFactory.create(AttributionModule.forConfig(config), { logger: logLevels() });
  app.enableShutdownHooks();
  await ensureTopicCatalog('attribution');
  const kafka = createKafkaClient(kafkaClientOptions(config));
  const admin = kafka.admin();
  await admin.connect();
  // ATTRIBUTION_GROUP_ID may name another group than the catalog's; its table consumer's DLQ follows it.
  await ensureTopics(admin, [deadLetterTopicSpec(tablesGroupId(config))], topicsEnv().KAFKA_REPLICATION_FACTOR);
  const partitionCount = await assertPartitionsAligned(admin);
  await assertBrokerTime(admin);

  app.connectMicroservice(
    {
      strategy: new KafkaBatchTransport(
        transportOptionsFrom(
          tablesGroupId(config),
          process.env,
          {
            offsetStore: app.get(PostgresOffsetStore),
            // Table topics written in transactions (the gateway's batches) end in commit markers.
            onPositionSkipped: (topic, partition, nextOffset) =>
              app.get(StateStore).skipTo(topic, partition, BigInt(nextOffset)),
          },
          'attribution',
        ),
      ),
    },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  const progressSignal = new TableProgressSignal(config.database.url);
  await progressSignal.start();
  const offsetsReader = new OffsetsByTimestampReader(kafka);
  await offsetsReader.connect();
  const processor = decisionProcessor(
    config,
    app.get(StateStore),
    app.get(DecisionStore),
    app.get(AttributionMetrics),
    admin,
    partitionCount,
    progressSignal,
    tableOffsets(offsetsReader, admin),
  );
  await processor.start();
  app.get(DecisionLoopLifecycle).attach(async () => {
    await processor.stop();
    await progressSignal.stop();
    await offsetsReader.disconnect();
  });
  await app.listen(config.ATTRIBUTION_HTTP_PORT, config.HTTP_HOST);
  Logger.log(`records written ${framing === 'confluent' ? 'Confluent-framed' : 'raw Avro'}`, 'Bootstrap');
  Logger.log(
    `attribution ready: explain at ${await app.getUrl()}/inferences/<id>/explain, metrics at ${await app.getUrl()}/metrics`,
    'Bootstrap',
  );
}

/**
 * The table wait's observations in one round trip (libs/kafka-wire); one that fails is asked again
 * through kafkajs's admin, which retries as it does for every admin request.
 */
function tableOffsets(reader: OffsetsByTimestampReader, admin: ReturnType<Kafka['admin']>): TableOffsets {
  const fallback = adminTableOffsets(admin);
  const logger = new Logger('TableOffsets');
  return {
    offsetsByTimestamp: (topics, timestampMs) =>
      reader.offsetsByTimestamp(topics, timestampMs).catch((error: unknown) => {
        logger.warn(`offsets by timestamp failed (${(error as Error).message}); asking the admin instead`);
        return fallback.offsetsByTimestamp(topics, timestampMs);
      }),
  };
}

/** Decisions go to the attributions partition numbered like their inference's, so the counts must match. */
async function assertPartitionsAligned(admin: ReturnType<Kafka['admin']>): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [TOPICS.inferences.name, TOPICS.attributions.name] });
  const counts = metadata.topics.map((topic) => topic.partitions.length);
  if (counts[0] !== counts[1]) {
    throw new Error(
      `${TOPICS.inferences.name} has ${counts[0]} partitions and ${TOPICS.attributions.name} ${counts[1]}: they must match`,
    );
  }
  return counts[0]!;
}

/** The topics the join rule compares by the broker's append time (as-of-append-time/v2). */
const BROKER_TIME_TOPICS = [TOPICS.datanets, TOPICS.contributions, TOPICS.models, TOPICS.inferences];
const TIMESTAMP_TYPE = 'message.timestamp.type';

/**
 * The join rule compares the times the broker appended the inference and the table records, so the
 * topics it joins must be message.timestamp.type=LogAppendTime: on CreateTime a producer's own clock
 * would place its table records before or after an inference. Topics created before the rule keep
 * CreateTime until the operator alters them, and the service refuses to start until then, naming each
 * topic and the command that fixes it.
 */
async function assertBrokerTime(admin: ReturnType<Kafka['admin']>): Promise<void> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: BROKER_TIME_TOPICS.map(({ name }) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configNames: [TIMESTAMP_TYPE],
    })),
  });
  const onProducerTime = resources.flatMap((resource) => {
    const value = resource.configEntries.find((entry) => entry.configName === TIMESTAMP_TYPE)?.configValue;
    return value === 'LogAppendTime' ? [] : [`${resource.resourceName} (${value ?? 'not set'})`];
  });
  if (onProducerTime.length > 0) {
    throw new Error(
      `${TIMESTAMP_TYPE} must be LogAppendTime on the topics the join rule compares by the broker's time, and is not on ` +
        `${onProducerTime.join(', ')}: alter each (kafka-configs --alter --entity-type topics --entity-name <topic> ` +
        `--add-config ${TIMESTAMP_TYPE}=LogAppendTime) and start again`,
    );
  }
}

function decisionProcessor(
  config: AttributionConfig,
  state: StateStore,
  decisions: DecisionStore,
  metrics: AttributionMetrics,
  admin: ReturnType<Kafka['admin']>,
  partitionCount: number,
  progressSignal: TableProgressSignal,
  offsets: TableOffsets,
) {
  const decider = new Decider(
    {
      tableTopics: [TOPICS.datanets.name, TOPICS.contributions.name, TOPICS.models.name],
      attributionsTopic: TOPICS.attributions.name,
      decisionBytesMax: maxMessageBytes(TOPICS.attributions),
      topicPrefix: topicPrefix(),
      protocolId: config.ATTRIBUTION_PROTOCOL_ID,
      policy: splitPolicy(config),
      limits: {
        attributionsMax: config.ATTRIBUTION_ATTRIBUTIONS_MAX,
        feeMinorMax: config.ATTRIBUTION_FEE_MINOR_MAX,
        clockSkewMsMax: config.ATTRIBUTION_CLOCK_SKEW_MS_MAX,
        partitionCount,
      },
      orderingWaitMsMax: config.ATTRIBUTION_ORDERING_WAIT_MS_MAX,
      orderingGraceMs: config.ATTRIBUTION_ORDERING_GRACE_MS,
      source: 'urn:tributary:attribution',
    },
    state,
    decisions,
    admin,
    metrics,
    progressSignal,
    offsets,
  );
  return new TransactionalProcessor(
    {
      brokers: config.KAFKA_BROKERS,
      clientId: config.KAFKA_CLIENT_ID,
      security: config.kafkaSecurity,
      groupId: config.ATTRIBUTION_GROUP_ID,
      inputTopic: TOPICS.inferences.name,
      transactionalIdPrefix: config.ATTRIBUTION_GROUP_ID,
      batchSizeMax: config.ATTRIBUTION_BATCH_SIZE_MAX,
      maxBytesPerPartition: config.CONSUMER_MAX_BYTES_PER_PARTITION,
      maxBytes: config.CONSUMER_MAX_BYTES,
      sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
      rebalanceTimeoutMs: config.CONSUMER_REBALANCE_TIMEOUT_MS,
      heartbeatIntervalMs: config.CONSUMER_HEARTBEAT_INTERVAL_MS,
      partitionsConsumedConcurrently: config.ATTRIBUTION_PARTITIONS_CONCURRENTLY,
      transactionTimeoutMs: config.ATTRIBUTION_TRANSACTION_TIMEOUT_MS,
      attemptsMax: config.ATTRIBUTION_ATTEMPTS_MAX,
      retryBackoffMs: config.ATTRIBUTION_RETRY_BACKOFF_MS,
    },
    decider,
  );
}

bootstrap().catch(exitOnStartupFailure('attribution'));
