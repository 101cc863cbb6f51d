import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Kafka } from 'kafkajs';
import { ConfigError, kafkaEnv, logLevels } from '@tributary/config';
import { topicCatalog } from '@tributary/contracts';
import { ensureTopics, KafkaBatchTransport, PostgresOffsetStore, topicsEnv, transportOptionsFrom } from '@tributary/messaging';
import { ProjectorModule } from './projector.module';
import { projectorConfig } from './projector.config';

/** The ledger projector: attribution decisions in from Kafka, ledger entries out to PostgreSQL. */
async function bootstrap(): Promise<void> {
  const config = projectorConfig();
  const app = await NestFactory.create(ProjectorModule.forConfig(config), { logger: logLevels() });
  app.enableShutdownHooks();
  await createTopics();
  const offsetStore = app.get(PostgresOffsetStore);
  app.connectMicroservice(
    { strategy: new KafkaBatchTransport(transportOptionsFrom(config.LEDGER_PROJECTOR_GROUP_ID, process.env, { offsetStore })) },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(config.LEDGER_PROJECTOR_HTTP_PORT, config.HTTP_HOST);
  Logger.log(`ledger-projector ready: health at ${await app.getUrl()}/health/ready`, 'Bootstrap');
}

async function createTopics(): Promise<void> {
  const admin = new Kafka({ clientId: kafkaEnv().KAFKA_CLIENT_ID, brokers: kafkaEnv().KAFKA_BROKERS }).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topicCatalog(), topicsEnv().KAFKA_REPLICATION_FACTOR);
  } finally {
    await admin.disconnect();
  }
}

bootstrap().catch((error: unknown) => {
  // A bad configuration is an operator's to fix: one line naming the variable, no stack trace.
  const line = error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error);
  process.stderr.write(`ledger-projector: ${line}\n`);
  process.exit(1);
});
