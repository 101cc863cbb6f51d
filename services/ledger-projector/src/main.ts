import 'reflect-metadata';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { exitOnStartupFailure, logLevels } from '@tributary/config';
import { ensureTopicCatalog, KafkaBatchTransport } from '@tributary/messaging';
import { ownerStepAtStartUp, PostgresOffsetStore } from '@tributary/persistence';
import { ownerMigrations } from './database/data-source-options';
import { ProjectorModule } from './projector.module';
import { projectorConfig, projectorTransportOptions } from './projector.config';

// kafkajs's wire fast paths, in place before any producer sends or consumer fetches (libs/kafka-wire).
installKafkaWireFastPaths();

/** The ledger projector: attribution decisions in from Kafka, ledger entries out to PostgreSQL. */
async function bootstrap(): Promise<void> {
  const config = projectorConfig();
  await ownerStepAtStartUp(config.database, ownerMigrations);
  const app = await NestFactory.create(ProjectorModule.forConfig(config), { logger: logLevels() });
  app.enableShutdownHooks();
  await ensureTopicCatalog('ledger-projector');
  const offsetStore = app.get(PostgresOffsetStore);
  app.connectMicroservice(
    {
      strategy: new KafkaBatchTransport(projectorTransportOptions(config, offsetStore)),
    },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(config.LEDGER_PROJECTOR_HTTP_PORT, config.HTTP_HOST);
  Logger.log(`ledger-projector ready: health at ${await app.getUrl()}/health/ready`, 'Bootstrap');
}

bootstrap().catch(exitOnStartupFailure('ledger-projector'));
