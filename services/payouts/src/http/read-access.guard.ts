import { HttpException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { admitHttpRead, ReadAccess, ReaderAuthenticator } from '@tributary/access';
import { PAYOUTS_CONFIG, type PayoutsConfig } from '../payouts.config';
import { PayoutsMetrics } from '../payouts-metrics';

const ERROR_NAMES = { 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' };

/**
 * Decides every request by the route's rule in libs/access READ_ROUTES (the one table shared with the
 * ledger API) before the rate limiter runs: health, metrics and the operator writes (which have their own
 * token, OperatorTokenGuard) pass; a statement needs a read credential (401 without one or with an
 * unknown, revoked or expired one, 403 outside its scope, 429 when the address has used up its failed
 * look-ups, 503 when the credentials cannot be read), in Nest's {statusCode, message, error} like every
 * other error here. A refusal is left for the limiter to throw once it has counted the attempt against the
 * client's address; an admitted request counts against its credential from here on.
 */
@Injectable()
export class ReadAccessGuard implements CanActivate {
  private readonly access: ReadAccess;

  constructor(
    @Inject(PAYOUTS_CONFIG) config: PayoutsConfig,
    dataSource: DataSource,
    @Inject(PayoutsMetrics) metrics: PayoutsMetrics,
  ) {
    this.access = new ReadAccess(
      'payouts',
      new ReaderAuthenticator(
        (text, params) => dataSource.query(text, params),
        config.access,
        (outcome) => metrics.credentialLookups.inc({ outcome }),
      ),
    );
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    await admitHttpRead(
      this.access,
      context,
      ({ status, message }) => new HttpException({ statusCode: status, message, error: ERROR_NAMES[status] }, status),
    );
    return true;
  }
}
