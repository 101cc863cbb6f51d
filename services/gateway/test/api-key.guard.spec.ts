// Proves that ApiKeyGuard refuses a request without a usable key with the gateway's own rejections (401, 429 with Retry-After when the address used up its failed look-ups, or 503 with Retry-After when the key store fails) and leaves a known key's scope on the request for @KeyScope() and its id for the rate limit, by running the guard on hand-made requests with a stub key store.
import type { ExecutionContext } from '@nestjs/common';
import { rateLimitTracker } from '@tributary/observability';
import { ApiKeyGuard } from '../src/auth/api-key.guard';
import type { ApiKeyAuthenticator, ApiKeySummary, Authentication } from '../src/auth/api-key.store';
import type { GatewayConfig } from '../src/gateway.config';
import { GatewayRejection } from '../src/ingest/rejection';

const SCOPE: ApiKeySummary = {
  keyId: '0123456789ab',
  producerId: 'acme',
  eventTypes: ['*'],
  datanetIds: ['*'],
  modelIds: ['*'],
  createdAt: new Date(0),
  revokedAt: null,
};
const KEY = 'trb_0123456789ab_known';

function guardWith(authenticate: (key: string, address: string) => Promise<Authentication>): ApiKeyGuard {
  return new ApiKeyGuard(
    { authenticate } as unknown as ApiKeyAuthenticator,
    { GATEWAY_RETRY_AFTER_S: 7 } as GatewayConfig,
  );
}

function contextOf(headers: Record<string, string>): {
  context: ExecutionContext;
  request: { headers: Record<string, string>; ip: string };
} {
  const request = { headers, ip: '10.0.0.9' };
  const context = { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
  return { context, request };
}

async function refusal(guard: ApiKeyGuard, headers: Record<string, string>): Promise<GatewayRejection> {
  const error = await guard.canActivate(contextOf(headers).context).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(GatewayRejection);
  return error as GatewayRejection;
}

describe('ApiKeyGuard', () => {
  const known = guardWith(async (key) => (key === KEY ? { outcome: 'live', key: SCOPE } : { outcome: 'unknown' }));

  describe('given no key', () => {
    it('then it refuses with 401 unauthenticated, naming both headers', async () => {
      const rejection = await refusal(known, {});
      expect(rejection.body()).toEqual({
        statusCode: 401,
        error: 'unauthenticated',
        message: 'an API key is required: send "Authorization: Bearer <key>" (or X-Api-Key)',
      });
    });
  });

  describe('given an unknown key', () => {
    it('then it refuses with 401 unauthenticated', async () => {
      const rejection = await refusal(known, { authorization: 'Bearer trb_nope' });
      expect(rejection.body()).toEqual({
        statusCode: 401,
        error: 'unauthenticated',
        message: 'unknown or revoked API key',
      });
    });
  });

  describe('given an address that used up its failed look-ups', () => {
    it("then it refuses with 429 rate_limited and the authenticator's Retry-After, passing the client address", async () => {
      const addresses: string[] = [];
      const limited = guardWith(async (_key, address) => {
        addresses.push(address);
        return { outcome: 'limited', retryAfterS: 42 };
      });
      const rejection = await refusal(limited, { authorization: `Bearer ${KEY}` });
      expect(rejection.status).toBe(429);
      expect(rejection.reason).toBe('rate_limited');
      expect(rejection.retryAfterS).toBe(42);
      expect(addresses).toEqual(['10.0.0.9']);
    });
  });

  describe('given a key store that fails', () => {
    it('then it refuses with 503 unavailable and the configured Retry-After', async () => {
      const rejection = await refusal(
        guardWith(() => Promise.reject(new Error('connection refused'))),
        { 'x-api-key': KEY },
      );
      expect(rejection.status).toBe(503);
      expect(rejection.reason).toBe('unavailable');
      expect(rejection.retryAfterS).toBe(7);
      expect(rejection.message).toBe('the gateway database is unavailable (connection refused)');
    });
  });

  describe('given a known key in either header', () => {
    it.each<Record<string, string>>([{ authorization: `bearer ${KEY}` }, { 'x-api-key': ` ${KEY} ` }])(
      'then it lets %p through with the key scope on the request, its rate limit counted against the key id',
      async (headers) => {
        const { context, request } = contextOf(headers);
        await expect(known.canActivate(context)).resolves.toBe(true);
        expect(
          Object.getOwnPropertySymbols(request).map(
            (symbol) => (request as unknown as Record<symbol, unknown>)[symbol],
          ),
        ).toEqual([SCOPE, SCOPE.keyId]);
        expect(rateLimitTracker(request)).toBe(`credential:${SCOPE.keyId}`);
      },
    );
  });
});
