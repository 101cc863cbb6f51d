import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { logLevels, projectRoot } from '@tributary/config';
import { applyTrustProxy } from '@tributary/observability';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from './http/api-error';
import { LedgerApiModule } from './ledger-api.module';
import type { LedgerApiConfig } from './ledger-api.config';

/**
 * The dashboard's static files: plain HTML, CSS and JS, served from this folder and nowhere else. The folder is
 * not compiled: a build (and the image) keeps it at its source path, where the compiled service finds it too.
 */
export const DASHBOARD_DIR = path.join(projectRoot(), 'services', 'ledger-api', 'dashboard');

/**
 * The application, ready to listen: the API under /v1, its OpenAPI document at /docs (JSON at
 * /docs/openapi.json), the dashboard at /dashboard/. Only GET and HEAD exist; anything else is a 405
 * in the common error shape, which says "read-only" at the door as well as in the database.
 */
export async function createLedgerApiApp(config: LedgerApiConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(LedgerApiModule.forConfig(config), {
    logger: logLevels(),
    bodyParser: false,
  });
  app.enableShutdownHooks();
  applyTrustProxy(app, config.HTTP_TRUST_PROXY_HOPS);
  app.use(readOnlyMethods);
  // express.static through Nest's adapter: express is platform-express's dependency, not ours (types only here).
  app.useStaticAssets(DASHBOARD_DIR, { prefix: '/dashboard', index: 'index.html', fallthrough: true, maxAge: 0 });
  app.use((request: Request, response: Response, next: NextFunction) =>
    request.path === '/' ? response.redirect(302, '/dashboard/') : next(),
  );
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Tributary ledger API')
      .setDescription(
        'Read-only answers to "what am I owed, and why?": balances, statements traced to inferences and payouts, decisions explained, lineage, revenue, ' +
          "backed credits and pending funding per account, producers' shortfall, the treasury and its funding reconciliation, " +
          'the ledger digest and projection lag. Amounts are decimal strings of minor units. Errors are {statusCode, error, message, issues:[{field, rule}]}. ' +
          'Every operation needs "Authorization: Bearer <credential>" (a read credential or an OIDC token): 401 without a valid one, 403 outside its scope ' +
          '(operator: everything; analyst: revenue per datanet and model, the flow; participant:<accountId>: that account). GET /v1/me says what a credential may read.',
      )
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'a read credential (trr_...) or an OIDC token' })
      .addSecurityRequirements('bearer')
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}

function readOnlyMethods(request: Request, response: Response, next: NextFunction): void {
  if (request.method === 'GET' || request.method === 'HEAD') return next();
  response.setHeader('Allow', 'GET, HEAD');
  response
    .status(405)
    .json(
      new ApiError(405, 'method_not_allowed', `${request.method}: this API is read-only`, [
        { field: '(method)', rule: 'one-of:GET|HEAD' },
      ]).body(),
    );
}
