import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { admitHttpRead, ReadAccess, ReaderAuthenticator, type Reader } from '@tributary/access';
import { ReaderPool } from '../database/reader-pool';
import { LedgerApiMetrics } from '../kafka/dlq-metrics';
import { LEDGER_API_CONFIG, type LedgerApiConfig } from '../ledger-api.config';
import { ApiError } from './api-error';

/** Where the guard leaves the reader on the request; a symbol, so no header can set it. */
const READER = Symbol('tributary.ledgerApi.reader');
type ReaderRequest = Request & { [READER]?: Reader };
const ERROR_CODES = { 401: 'unauthorized', 403: 'forbidden', 429: 'too_many_requests', 503: 'unavailable' } as const;

/**
 * Decides every request by the route's rule in libs/access READ_ROUTES (the one table) before the rate
 * limiter runs: public routes pass; otherwise 401 without a credential or with an unknown, revoked or
 * expired one, 403 outside its scope, 429 with Retry-After when the address has used up its failed
 * look-ups, 503 when the credentials cannot be read; all in the API's error shape. A refusal is left for
 * the limiter to throw once it has counted the attempt against the client's address, so failed attempts
 * use up the per-address limit; an admitted request counts against its credential from here on.
 */
@Injectable()
export class ReadAccessGuard implements CanActivate {
  private readonly access: ReadAccess;

  constructor(
    @Inject(LEDGER_API_CONFIG) config: LedgerApiConfig,
    @Inject(ReaderPool) db: ReaderPool,
    @Inject(LedgerApiMetrics) metrics: LedgerApiMetrics,
  ) {
    this.access = new ReadAccess(
      'ledger-api',
      new ReaderAuthenticator(
        (text, params) => db.rows(text, params),
        config.access,
        (outcome) => metrics.credentialLookups.inc({ outcome }),
      ),
    );
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const reader = await admitHttpRead(
      this.access,
      context,
      ({ status, rule, message }) =>
        new ApiError(status, ERROR_CODES[status], message, [{ field: 'authorization', rule }]),
    );
    if (reader !== undefined) context.switchToHttp().getRequest<ReaderRequest>()[READER] = reader;
    return true;
  }
}

/** The reader the guard admitted; undefined on a public route. */
export function readerOf(request: Request): Reader | undefined {
  return (request as ReaderRequest)[READER];
}
