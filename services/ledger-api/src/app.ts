import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { logLevels } from '@tributary/config';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError } from './http/api-error';
import { LedgerApiModule } from './ledger-api.module';
import type { LedgerApiConfig } from './ledger-api.config';

/** The dashboard's static files: plain HTML, CSS and JS, served from this folder and nowhere else. */
export const DASHBOARD_DIR = path.resolve(__dirname, '../dashboard');

/**
 * The application, ready to listen: the API under /v1, its OpenAPI document at /docs (JSON at
 * /docs/openapi.json), the dashboard at /dashboard/. Only GET and HEAD exist; anything else is a 405
 * in the common error shape, which says "read-only" at the door as well as in the database.
 */
export async function createLedgerApiApp(config: LedgerApiConfig): Promise<INestApplication> {
  const app = await NestFactory.create(LedgerApiModule.forConfig(config), { logger: logLevels(), bodyParser: false });
  app.enableShutdownHooks();
  app.use(readOnlyMethods);
  app.use('/dashboard', express.static(DASHBOARD_DIR, { index: 'index.html', fallthrough: true, maxAge: 0 }));
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
          'the ledger digest and projection lag. Amounts are decimal strings of minor units. Errors are {statusCode, error, message, issues:[{field, rule}]}.',
      )
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
