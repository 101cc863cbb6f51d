import 'reflect-metadata';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { exitOnStartupFailure, logLevels } from '@tributary/config';
import { applyTrustProxy } from '@tributary/observability';
import { topicPrefix } from '@tributary/contracts';
import { ensureTopicCatalog, installWireFraming } from '@tributary/messaging';
import { ownerStepAtStartUp } from '@tributary/persistence';
import { ownerMigrations } from './database/data-source-options';
import { payoutsConfig } from './payouts.config';
import { PayoutsModule } from './payouts.module';
import { connectPublisher } from './saga/payout-publisher';
import { SagaWorker } from './saga/saga-worker';

// kafkajs's wire fast paths, in place before any producer sends or consumer fetches (libs/kafka-wire).
installKafkaWireFastPaths();

/**
 * The payouts service: closes epochs (on an interval or an operator's call) into planned payouts read
 * from the ledger, and drives each payout's saga to PayoutSettled or PayoutFailed on tributary.payouts.
 * It is also the treasury's door: the operator records producers' deposits and chargebacks through it
 * (POST /funding/deposits, /funding/chargebacks), published on tributary.funding.
 */
async function bootstrap(): Promise<void> {
  const config = payoutsConfig();
  // The schema registry's ids, before any record is built: with them every record is Confluent-framed.
  const framing = await installWireFraming('payouts');
  await ownerStepAtStartUp(config.database, ownerMigrations);
  await ensureTopicCatalog('payouts');
  const publisher = await connectPublisher(config, topicPrefix());
  const app = await NestFactory.create<NestExpressApplication>(PayoutsModule.forConfig(config, publisher), {
    logger: logLevels(),
    bodyParser: false,
  });
  // Request bodies are small ({ epoch }, a resolution, a funding event whose largest field is a chargeback
  // reason of at most 4,096 characters): a small limit refuses anything else before it is parsed.
  app.useBodyParser('json', { limit: '32kb' });
  applyTrustProxy(app, config.HTTP_TRUST_PROXY_HOPS);
  const worker = app.get(SagaWorker);
  worker.start();
  // One ordered shutdown: the worker finishes its step, then Nest closes (the pool last), then the producer.
  // Not also Nest's own shutdown hooks: they closed the app a second time beside this ("Called end on pool
  // more than once") and could close the pool under a step in flight.
  // Once, whichever signals come: Ctrl-C under `npm start` brings SIGINT and then npm start's SIGTERM.
  let stopping: Promise<void> | null = null;
  const shutdown = () => {
    stopping ??= worker.stop().finally(() => app.close().finally(() => publisher.close()));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await app.listen(config.PAYOUTS_HTTP_PORT, config.HTTP_HOST);
  Logger.log(`records written ${framing === 'confluent' ? 'Confluent-framed' : 'raw Avro'}`, 'Bootstrap');
  Logger.log(`payouts ready: statement at ${await app.getUrl()}/accounts/<accountId>/payouts`, 'Bootstrap');
}

bootstrap().catch(exitOnStartupFailure('payouts'));
