import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SwaggerModule } from '@nestjs/swagger';
import { logLevels } from '@tributary/config';
import { applyTrustProxy } from '@tributary/observability';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { GatewayModule } from './gateway.module';
import type { GatewayConfig } from './gateway.config';
import { buildOpenApiDocument } from './ingest/openapi-document';
import { GatewayMetrics } from './metrics/gateway-metrics';

/**
 * The gateway application, ready to listen. The JSON body parser is ours, not Nest's default, so that
 * an oversized or unparseable body gets the gateway's own error shape (413 / 400) and is counted. It is
 * express's, through Nest's adapter: express is platform-express's dependency, not ours, so the compiled
 * service never requires it by name (express is imported for its types only). `registryIds` (fingerprint ->
 * schema registry id) makes the schema catalog say each schema's registry id.
 */
export async function createGatewayApp(
  config: GatewayConfig,
  registryIds?: ReadonlyMap<string, number>,
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forConfig(config, registryIds), {
    logger: logLevels(),
    bodyParser: false,
  });
  app.enableShutdownHooks();
  applyTrustProxy(app, config.HTTP_TRUST_PROXY_HOPS);
  const metrics = app.get(GatewayMetrics);
  app.use(latencyRecorder(metrics));
  app.useBodyParser('json', { limit: config.GATEWAY_BODY_BYTES_MAX, strict: true });
  app.use(bodyErrors(metrics, config.GATEWAY_BODY_BYTES_MAX));
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app, config), { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}

function latencyRecorder(metrics: GatewayMetrics) {
  return (request: Request, response: Response, next: NextFunction) => {
    if (request.method !== 'POST' || !request.path.startsWith('/events/')) return next();
    const stop = metrics.latency.startTimer({ route: request.path === '/events/batch' ? 'batch' : 'single' });
    response.once('finish', () => stop({ status: String(response.statusCode) }));
    next();
  };
}

function bodyErrors(metrics: GatewayMetrics, bodyBytesMax: number) {
  return (
    error: { type?: string; status?: number; message?: string },
    _request: Request,
    response: Response,
    next: NextFunction,
  ) => {
    if (error.type === 'entity.too.large') {
      metrics.reject('too_large');
      response.status(413).json({
        statusCode: 413,
        error: 'too_large',
        message: `the body is larger than ${bodyBytesMax} bytes (GATEWAY_BODY_BYTES_MAX); nothing was sent`,
      });
      return;
    }
    if (error.type === 'entity.parse.failed' || error.status === 400 || error.status === 415) {
      metrics.reject('malformed_json');
      response.status(400).json({
        statusCode: 400,
        error: 'malformed_json',
        message: `the body is not a JSON object or array: ${error.message ?? ''}`.trim(),
      });
      return;
    }
    next(error);
  };
}
