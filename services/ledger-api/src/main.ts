import 'reflect-metadata';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { Logger } from '@nestjs/common';
import { exitOnStartupFailure } from '@tributary/config';
import { createLedgerApiApp } from './app';
import { KafkaReader } from './kafka/kafka-reader';
import { runOwnerStep } from './database/owner-step';
import { ledgerApiConfig } from './ledger-api.config';

// kafkajs's wire fast paths, in place before any producer sends or consumer fetches (libs/kafka-wire).
installKafkaWireFastPaths();

/** The ledger query API and dashboard: reads the ledger through a role that can only SELECT it. */
async function bootstrap(): Promise<void> {
  const config = ledgerApiConfig();
  // The owner's connection is taken once for the owner step (or only forgotten), never kept.
  if (config.database.migrate) {
    await runOwnerStep({
      ownerDatabaseUrl: config.database.takeOwnerUrl(),
      readerRole: config.database.role,
      readerPassword: config.database.password,
    });
  } else {
    config.database.forgetOwnerUrl();
  }
  const app = await createLedgerApiApp(config);
  await app.get(KafkaReader).assertCredentialsAccepted();
  await app.listen(config.LEDGER_API_HTTP_PORT, config.HTTP_HOST);
  const url = await app.getUrl();
  Logger.log(
    `ledger-api ready at ${url} as role ${config.LEDGER_API_READER_ROLE} (dashboard at ${url}/dashboard/, OpenAPI at ${url}/docs)`,
    'Bootstrap',
  );
}

bootstrap().catch(exitOnStartupFailure('ledger-api'));
