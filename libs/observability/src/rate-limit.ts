// The HTTP rate limits every service shares, on @nestjs/throttler: who a request counts against (its
// credential once one is known, its client address before), which routes are never limited (health and
// metrics, for supervisors and scrapers), and the throttler options built from a service's configured
// limits. Each service subclasses ThrottlerGuard only to give a refusal its own error body and count it.
import type { ExecutionContext } from '@nestjs/common';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';

/** Where an authentication guard leaves the credential's id for the limiter; a symbol, so no header can set it. */
const RATE_LIMIT_CREDENTIAL = Symbol.for('tributary.rateLimit.credential');
/** Where an authentication guard leaves its refusal until the limiter has counted the request. */
const DEFERRED_REFUSAL = Symbol.for('tributary.rateLimit.deferredRefusal');

interface TrackedRequest {
  readonly ip?: string;
  readonly path?: string;
  readonly socket?: { readonly remoteAddress?: string };
  [RATE_LIMIT_CREDENTIAL]?: string;
  [DEFERRED_REFUSAL]?: Error;
}

/** The configured limits: requests per window, per credential and per client address. */
export interface RateLimits {
  readonly perCredential: number;
  readonly perAddress: number;
  readonly windowMs: number;
}

/**
 * Called by an authentication guard that runs before the limiter: from then on the request counts
 * against its credential, not its address (many producers may share one address behind a NAT).
 */
export function setRateLimitCredential(request: object, credentialId: string): void {
  (request as TrackedRequest)[RATE_LIMIT_CREDENTIAL] = credentialId;
}

/**
 * Called by an authentication guard that runs before the limiter, instead of throwing: the limiter
 * counts the request first (against its address when no credential was admitted), so refused attempts
 * use up the address's limit too, and then throws the refusal (takeDeferredRefusal in its canActivate).
 */
export function deferRefusal(request: object, refusal: Error): void {
  (request as TrackedRequest)[DEFERRED_REFUSAL] = refusal;
}

/** The refusal an authentication guard deferred to after the count, once; undefined when there is none. */
export function takeDeferredRefusal(request: object): Error | undefined {
  const refusal = (request as TrackedRequest)[DEFERRED_REFUSAL];
  delete (request as TrackedRequest)[DEFERRED_REFUSAL];
  return refusal;
}

/**
 * The client's address. `request.ip` honours X-Forwarded-For only when the app's `trust proxy` is set
 * (HTTP_TRUST_PROXY_HOPS), so by default a client cannot choose the address it is counted against.
 */
export function clientAddress(request: object): string {
  const tracked = request as TrackedRequest;
  return tracked.ip ?? tracked.socket?.remoteAddress ?? 'unknown';
}

/** The bucket a request counts against: `credential:<id>` once authenticated, else `address:<ip>`. */
export function rateLimitTracker(request: object): string {
  const credential = (request as TrackedRequest)[RATE_LIMIT_CREDENTIAL];
  return credential !== undefined ? `credential:${credential}` : `address:${clientAddress(request)}`;
}

/** Health and metrics are never limited: a supervisor or scraper must always get its answer. */
export function isUnlimitedPath(path: string): boolean {
  return path === '/metrics' || path === '/health' || path.startsWith('/health/');
}

/**
 * The throttler's options: one window, the limit chosen by the kind of tracker, and one bucket per
 * tracker across all routes (the library's default key is per route, which would multiply the limit
 * by the number of routes).
 */
export function throttlerOptions(limits: RateLimits): ThrottlerModuleOptions {
  const requestOf = (context: ExecutionContext) => context.switchToHttp().getRequest<TrackedRequest>();
  return {
    throttlers: [
      {
        name: 'default',
        ttl: limits.windowMs,
        limit: (context) =>
          rateLimitTracker(requestOf(context)).startsWith('credential:') ? limits.perCredential : limits.perAddress,
      },
    ],
    skipIf: (context) => context.getType() !== 'http' || isUnlimitedPath(requestOf(context).path ?? ''),
    getTracker: (request) => rateLimitTracker(request),
    generateKey: (_context, tracker, name) => `${name}:${tracker}`,
  };
}

/** Applies HTTP_TRUST_PROXY_HOPS to an express app: only then does request.ip read X-Forwarded-For. */
export function applyTrustProxy(app: { set(setting: string, value: unknown): unknown }, hops: number): void {
  app.set('trust proxy', hops > 0 ? hops : false);
}

/** Seconds a refused client should wait, at least 1 (Retry-After is whole seconds). */
export function retryAfterSeconds(timeToBlockExpireS: number): number {
  return Math.max(1, Math.ceil(timeToBlockExpireS));
}
