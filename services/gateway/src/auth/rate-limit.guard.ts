import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { retryAfterSeconds } from '@tributary/observability';
import { GatewayRejection } from '../ingest/rejection';

/**
 * The gateway's request rate limits (@nestjs/throttler, options from throttlerOptions in the gateway
 * module): GATEWAY_RATE_LIMIT_PER_KEY per key once ApiKeyGuard has run before it, else
 * GATEWAY_RATE_LIMIT_PER_ADDRESS per client address. A refusal is a GatewayRejection, so the exception
 * filter gives it the gateway's body and Retry-After and counts it as rate_limited.
 */
@Injectable()
export class GatewayRateLimitGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const perKey = detail.tracker.startsWith('credential:');
    throw new GatewayRejection(
      429,
      'rate_limited',
      `more than ${detail.limit} requests in ${detail.ttl} ms from this ${perKey ? 'API key (GATEWAY_RATE_LIMIT_PER_KEY)' : 'address (GATEWAY_RATE_LIMIT_PER_ADDRESS)'}; retry after the Retry-After seconds`,
      [],
      retryAfterSeconds(detail.timeToBlockExpire),
    );
  }
}
