import { createParamDecorator, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { GatewayRejection } from '../ingest/rejection';
import type { ApiKeyScope } from './api-key';
import { ApiKeyAuthenticator } from './api-key.store';

/** Where the guard leaves the authenticated key's scope on the request; a symbol, so no header or body can set it. */
const KEY_SCOPE = Symbol('tributary.gateway.keyScope');

type ScopedRequest = Request & { [KEY_SCOPE]?: ApiKeyScope };

/**
 * Authenticates the producer's API key (`Authorization: Bearer <key>` or `X-Api-Key`) before a route
 * runs and leaves the key's scope on the request for @KeyScope(). Refusals are GatewayRejections, so
 * the gateway's exception filter gives them the gateway's body, headers and rejection count: 401 for
 * a missing, unknown or revoked key, 503 with Retry-After when the key store cannot be read.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(ApiKeyAuthenticator) private readonly authenticator: ApiKeyAuthenticator,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ScopedRequest>();
    request[KEY_SCOPE] = await this.scopeOf(request.headers['authorization'], headerText(request.headers['x-api-key']));
    return true;
  }

  private async scopeOf(authorization: string | undefined, apiKey: string | undefined): Promise<ApiKeyScope> {
    const key = apiKey?.trim() || (/^Bearer\s+(\S+)$/i.exec(authorization ?? '') ?? [])[1];
    if (!key)
      throw new GatewayRejection(
        401,
        'unauthenticated',
        'an API key is required: send "Authorization: Bearer <key>" (or X-Api-Key)',
      );
    let scope: ApiKeyScope | undefined;
    try {
      scope = await this.authenticator.authenticate(key);
    } catch (error) {
      throw new GatewayRejection(
        503,
        'unavailable',
        `the gateway database is unavailable (${(error as Error).message})`,
        [],
        this.config.GATEWAY_RETRY_AFTER_S,
      );
    }
    if (!scope) throw new GatewayRejection(401, 'unauthenticated', 'unknown or revoked API key');
    return scope;
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
