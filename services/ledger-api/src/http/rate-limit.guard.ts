import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { takeDeferredRefusal } from '@tributary/observability';
import { LedgerApiMetrics } from '../kafka/dlq-metrics';
import { ApiError } from './api-error';

/**
 * The ledger API's rate limit (@nestjs/throttler, options from throttlerOptions in the module): every
 * route but health and metrics, LEDGER_API_RATE_LIMIT_PER_CREDENTIAL requests per window and read
 * credential once ReadAccessGuard (which runs first) admitted one, else LEDGER_API_RATE_LIMIT_PER_ADDRESS
 * per client address. A refusal is a 429 in the API's error shape
 * with Retry-After (set by the library before it throws), counted in ledger_api_requests_rate_limited_total.
 */
@Injectable()
export class LedgerApiRateLimitGuard extends ThrottlerGuard {
  // A property, not a constructor parameter: the library's guard keeps its own constructor and injections.
  @Inject(LedgerApiMetrics) private readonly metrics!: LedgerApiMetrics;

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
    throw new ApiError(
      429,
      'too_many_requests',
      `more than ${detail.limit} requests in ${detail.ttl} ms from this ${perCredential ? 'credential (LEDGER_API_RATE_LIMIT_PER_CREDENTIAL)' : 'address (LEDGER_API_RATE_LIMIT_PER_ADDRESS)'}; retry after the Retry-After seconds`,
      [{ field: '(rate)', rule: `at-most:${detail.limit}-per-${detail.ttl}ms` }],
    );
  }
}
