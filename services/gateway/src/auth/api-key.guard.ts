import { createParamDecorator, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { clientAddress, setRateLimitCredential } from '@tributary/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { GatewayRejection } from '../ingest/rejection';
import type { ApiKeyScope } from './api-key';
import { ApiKeyAuthenticator, type ApiKeySummary, type Authentication } from './api-key.store';

/** Where the guard leaves the authenticated key's scope on the request; a symbol, so no header or body can set it. */
const KEY_SCOPE = Symbol('tributary.gateway.keyScope');

type ScopedRequest = Request & { [KEY_SCOPE]?: ApiKeyScope };

/**
 * Authenticates the producer's API key (`Authorization: Bearer <key>` or `X-Api-Key`) before a route
 * runs and leaves the key's scope on the request for @KeyScope(). Refusals are GatewayRejections, so
 * the gateway's exception filter gives them the gateway's body, headers and rejection count: 401 for
 * a missing, unknown or revoked key, 429 with Retry-After when the client's address has used up its
 * failed look-ups (ApiKeyAuthenticator), 503 with Retry-After when the key store cannot be read. An
 * authenticated request's rate limit counts against its key id from here on (GatewayRateLimitGuard).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(ApiKeyAuthenticator) private readonly authenticator: ApiKeyAuthenticator,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ScopedRequest>();
    const key = await this.keyOf(
      request.headers['authorization'],
      headerText(request.headers['x-api-key']),
      clientAddress(request),
    );
    request[KEY_SCOPE] = key;
    setRateLimitCredential(request, key.keyId);
    return true;
  }

  private async keyOf(
    authorization: string | undefined,
    apiKey: string | undefined,
    address: string,
  ): Promise<ApiKeySummary> {
    const key = apiKey?.trim() || (/^Bearer\s+(\S+)$/i.exec(authorization ?? '') ?? [])[1];
    if (!key)
      throw new GatewayRejection(
        401,
        'unauthenticated',
        'an API key is required: send "Authorization: Bearer <key>" (or X-Api-Key)',
      );
    let authentication: Authentication;
    try {
      authentication = await this.authenticator.authenticate(key, address);
    } catch (error) {
      throw new GatewayRejection(
        503,
        'unavailable',
        `the gateway database is unavailable (${(error as Error).message})`,
        [],
        this.config.GATEWAY_RETRY_AFTER_S,
      );
    }
    if (authentication.outcome === 'limited')
      throw new GatewayRejection(
        429,
        'rate_limited',
        'too many unknown API keys from this address (GATEWAY_AUTH_FAILURES_PER_ADDRESS); retry after the Retry-After seconds',
        [],
        authentication.retryAfterS,
      );
    if (authentication.outcome === 'unknown')
      throw new GatewayRejection(401, 'unauthenticated', 'unknown or revoked API key');
    return authentication.key;
  }
}

/** Node joins a repeated custom header into one string; the type still allows an array, read as its first value. */
function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The scope of the API key ApiKeyGuard authenticated; a route without the guard is a programming error. */
export const KeyScope = createParamDecorator((_data: unknown, context: ExecutionContext): ApiKeyScope => {
  const scope = context.switchToHttp().getRequest<ScopedRequest>()[KEY_SCOPE];
  if (scope === undefined) throw new Error('@KeyScope() read on a route that ApiKeyGuard does not guard');
  return scope;
});
