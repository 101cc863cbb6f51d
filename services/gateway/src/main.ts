import 'reflect-metadata';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { Logger } from '@nestjs/common';
import { exitOnStartupFailure } from '@tributary/config';
import { ownerStepAtStartUp } from '@tributary/persistence';
import { ensureTopicCatalog, installWireFraming } from '@tributary/messaging';
import { registerEventSchemas, schemaRegistryUrl } from '@tributary/schema-registry';
import { createGatewayApp } from './app';
import { ownerMigrations } from './database/data-source-options';
import { gatewayConfig } from './gateway.config';
import { publishSchemaCatalog } from './schema-catalog/schema-catalog.publisher';

// kafkajs's wire fast paths, in place before any producer sends or consumer fetches (libs/kafka-wire).
installKafkaWireFastPaths();

/** The producer gateway: HTTP in, durable Kafka records out; also serves the schema catalog. */
async function bootstrap(): Promise<void> {
  const config = gatewayConfig();
  // With a schema registry (SCHEMA_REGISTRY_URL), every schema is registered (idempotently) before any
  // record is built, so every record is Confluent-framed, and the catalog published and served says each
  // schema's registry id.
  const registryUrl = schemaRegistryUrl();
  const registryIds = registryUrl === undefined ? undefined : await registerEventSchemas(registryUrl);
  const framing = await installWireFraming('gateway', () => Promise.resolve(registryIds ?? null));
  await ownerStepAtStartUp(config.database, ownerMigrations);
  const app = await createGatewayApp(config, registryIds);
  await ensureTopicCatalog('gateway');
  const published = await publishSchemaCatalog(config, registryIds);
  await app.listen(config.GATEWAY_HTTP_PORT, config.HTTP_HOST);
  const url = await app.getUrl();
  Logger.log(`records written ${framing === 'confluent' ? 'Confluent-framed' : 'raw Avro'}`, 'Bootstrap');
  Logger.log(
    `gateway ready at ${url} (${published} schemas published${registryIds ? `, ${registryIds.size} registered at ${registryUrl}` : ''}; OpenAPI at ${url}/docs)`,
    'Bootstrap',
  );
}

bootstrap().catch(exitOnStartupFailure('gateway'));
