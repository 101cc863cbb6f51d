import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { exitOnStartupFailure, logLevels } from '@tributary/config';
import { ensureTopicCatalog } from '@tributary/messaging';
import { GatewayModule } from './gateway.module';
import { gatewayConfig } from './gateway.config';
import { publishSchemaCatalog } from './schema-catalog/schema-catalog.publisher';

/** The producer gateway: HTTP in, durable Kafka records out; also serves the schema catalog. */
async function bootstrap(): Promise<void> {
  const config = gatewayConfig();
  const app = await NestFactory.create(GatewayModule.forConfig(config), { logger: logLevels() });
  app.enableShutdownHooks();
  await ensureTopicCatalog();
  const published = await publishSchemaCatalog(config.KAFKA_BROKERS, config.KAFKA_CLIENT_ID);
  const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('Tributary gateway').setVersion('1').build());
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  await app.listen(config.GATEWAY_HTTP_PORT, config.HTTP_HOST);
  const url = await app.getUrl();
  Logger.log(`gateway ready at ${url} (${published} schemas published; OpenAPI at ${url}/docs)`, 'Bootstrap');
}

bootstrap().catch(exitOnStartupFailure('gateway'));
