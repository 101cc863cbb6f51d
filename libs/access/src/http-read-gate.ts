import type { ExecutionContext } from '@nestjs/common';
import { clientAddress, deferRefusal, setRateLimitCredential } from '@tributary/observability';
import type { ReadAccess, ReadDecision, Reader } from './read-access';

export type ReadRefusal = Extract<ReadDecision, { allowed: false }>;

interface HttpRequest {
  readonly method: string;
  readonly route?: { readonly path?: string };
  readonly params: Record<string, string>;
  readonly query: Record<string, unknown>;
  readonly headers: Record<string, string | string[] | undefined>;
}

/**
 * What both read services' guards do with an HTTP request, each with its own error shape (`refusalOf`):
 * decide it by the route's rule (READ_ROUTES); a refusal (with Retry-After where it has one) is left for
 * the rate limiter to throw once it has counted the attempt against the client's address, so failed
 * attempts use up the per-address limit; an admitted reader counts against its credential from here on.
 * Returns the admitted reader, undefined on a public route or a refusal.
 */
export async function admitHttpRead(
  access: ReadAccess,
  context: ExecutionContext,
  refusalOf: (refusal: ReadRefusal) => Error,
): Promise<Reader | undefined> {
  const http = context.switchToHttp();
  const request = http.getRequest<HttpRequest>();
  const authorization = request.headers['authorization'];
  const decision = await access.decide({
    method: request.method,
    routePath: request.route?.path,
    params: request.params,
    query: request.query,
    authorization: Array.isArray(authorization) ? authorization[0] : authorization,
    address: clientAddress(request),
  });
  if (!decision.allowed) {
    if (decision.retryAfterS !== undefined)
      http
        .getResponse<{ setHeader(name: string, value: string): unknown }>()
        .setHeader('Retry-After', String(decision.retryAfterS));
    deferRefusal(request, refusalOf(decision));
    return undefined;
  }
  if (decision.reader !== undefined) setRateLimitCredential(request, decision.reader.id);
  return decision.reader;
}
