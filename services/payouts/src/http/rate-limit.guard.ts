import { HttpException, HttpStatus, Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { takeDeferredRefusal } from '@tributary/observability';
import { PayoutsMetrics } from '../payouts-metrics';

/**
 * The payouts HTTP API's rate limit (@nestjs/throttler, options from throttlerOptions in the module):
 * every route but health and metrics, PAYOUTS_RATE_LIMIT_PER_CREDENTIAL requests per window and read
 * credential once ReadAccessGuard (which runs first) admitted one, else PAYOUTS_RATE_LIMIT_PER_ADDRESS per
 * client address; checked before the operator token (so guessing the token is limited too). A refusal is a 429 in the service's error shape (Nest's
 * {statusCode, message, error}) with Retry-After (set by the library before it throws), counted in
 * payouts_requests_rate_limited_total.
 */
@Injectable()
export class PayoutsRateLimitGuard extends ThrottlerGuard {
  // A property, not a constructor parameter: the library's guard keeps its own constructor and injections.
  @Inject(PayoutsMetrics) private readonly metrics!: PayoutsMetrics;

  /** Counts the request, then throws the refusal ReadAccessGuard left (401, 403, 429, 503), if any. */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const admitted = await super.canActivate(context);
    const refusal = takeDeferredRefusal(context.switchToHttp().getRequest<object>());
    if (refusal !== undefined) throw refusal;
    return admitted;
  }

  protected override async throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    this.metrics.rateLimited.inc();
    const perCredential = detail.tracker.startsWith('credential:');
    throw new HttpException(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        message: `more than ${detail.limit} requests in ${detail.ttl} ms from this ${perCredential ? 'credential (PAYOUTS_RATE_LIMIT_PER_CREDENTIAL)' : 'address (PAYOUTS_RATE_LIMIT_PER_ADDRESS)'}; retry after the Retry-After seconds`,
        error: 'Too Many Requests',
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
