// Deciding one read request: which rule its route has (READ_ROUTES), who the bearer is (a read credential
// or, where an issuer is configured, an OIDC token), and whether its scopes allow the route. Framework
// free: each service's guard hands in what Express matched and turns a refusal into its own error shape.
import type { AccessSettings } from './access-env';
import { findLiveCredential, READ_CREDENTIALS, type Sql } from './credential-store';
import { FailedLookupBudget, SharedLookups, UnknownKeyMemory } from './failed-lookups';
import { looksLikeJwt, OidcVerifier } from './oidc';
import { describeRule, mayRead, needsCredential, routeTable, type ReadService } from './read-routes';
import { hashSecretKey } from './secret-keys';
import type { Scope } from './scopes';

export interface Reader {
  /** Who the rate limit counts against: the credential's id, or `oidc:<subject>`. */
  readonly id: string;
  readonly scopes: readonly Scope[];
}

export type Authentication =
  | { readonly outcome: 'live'; readonly reader: Reader }
  | { readonly outcome: 'unknown'; readonly reason: string }
  | { readonly outcome: 'limited'; readonly retryAfterS: number };

const CACHE_ENTRIES_MAX = 10_000;
const UNKNOWN = 'unknown or revoked credential';

/**
 * Bearer tokens to readers. A read credential is looked up by its hash and then trusted for
 * ACCESS_CACHE_TTL_MS (so a revoked one is refused within that time); garbage of the wrong shape never
 * reaches the database; a hash found unknown is refused without a look-up for
 * ACCESS_UNKNOWN_CACHE_TTL_MS; and each address may cause ACCESS_FAILURES_PER_ADDRESS failed look-ups per
 * ACCESS_FAILURE_WINDOW_MS, after which an uncached credential is a 429 without a look-up. A JWT is
 * verified against the issuer's keys when an issuer is configured; it never costs a database query.
 */
export class ReaderAuthenticator {
  private readonly cache = new Map<string, { reader: Reader; expiresAtMs: number }>();
  private readonly unknown: UnknownKeyMemory;
  private readonly failedLookups: FailedLookupBudget;
  private readonly lookups = new SharedLookups<Reader | undefined>();
  private readonly oidc: OidcVerifier | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly settings: AccessSettings,
    /** Told of every database look-up and what it found, for a service's metrics. */
    private readonly onLookup: (found: 'live' | 'unknown') => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.unknown = new UnknownKeyMemory(settings.unknownCacheTtlMs, CACHE_ENTRIES_MAX);
    this.failedLookups = new FailedLookupBudget(settings.failuresPerAddress, settings.failureWindowMs);
    this.oidc = settings.oidc ? new OidcVerifier(settings.oidc) : undefined;
  }

  /** Throws only when the credential store or the issuer's keys cannot be read. */
  async authenticate(token: string, address: string): Promise<Authentication> {
    if (READ_CREDENTIALS.looksLike(token)) return this.credential(hashSecretKey(token), address);
    if (this.oidc !== undefined && looksLikeJwt(token)) {
      const verified = await this.oidc.verify(token);
      if (!verified.valid) return { outcome: 'unknown', reason: verified.reason };
      return { outcome: 'live', reader: { id: `oidc:${verified.subject}`, scopes: verified.scopes } };
    }
    return { outcome: 'unknown', reason: UNKNOWN };
  }

  private async credential(secretSha256: string, address: string): Promise<Authentication> {
    const now = this.now();
    const cached = this.cache.get(secretSha256);
    if (cached !== undefined && cached.expiresAtMs > now) return { outcome: 'live', reader: cached.reader };
    if (this.unknown.has(secretSha256, now)) return { outcome: 'unknown', reason: UNKNOWN };
    // Concurrent requests with one credential share its look-up (SharedLookups): only the first takes budget.
    const joined = this.lookups.joining(secretSha256);
    if (joined !== undefined) return readerOutcome(await joined);
    // Taken before the look-up so concurrent requests cannot overshoot it; a throwing look-up keeps it.
    const budget = this.failedLookups.take(address, now);
    if (!budget.allowed) return { outcome: 'limited', retryAfterS: budget.retryAfterS };
    return readerOutcome(await this.lookups.start(secretSha256, () => this.lookUp(secretSha256, address, now)));
  }

  /** One database look-up and what it teaches: the unknown-credential memory or the cache, the budget back. */
  private async lookUp(secretSha256: string, address: string, now: number): Promise<Reader | undefined> {
    const found = await findLiveCredential(this.sql, secretSha256);
    this.onLookup(found === undefined ? 'unknown' : 'live');
    if (found === undefined) {
      this.cache.delete(secretSha256);
      this.unknown.remember(secretSha256, this.now());
      return undefined;
    }
    this.failedLookups.giveBack(address);
    const reader = { id: found.credentialId, scopes: found.scopes };
    if (this.settings.cacheTtlMs > 0) {
      if (this.cache.size >= CACHE_ENTRIES_MAX) this.cache.clear();
      this.cache.set(secretSha256, { reader, expiresAtMs: now + this.settings.cacheTtlMs });
    }
    return reader;
  }
}

function readerOutcome(reader: Reader | undefined): Authentication {
  return reader === undefined ? { outcome: 'unknown', reason: UNKNOWN } : { outcome: 'live', reader };
}

/** What a guard knows about a request once the router matched it. */
export interface ReadRequest {
  readonly method: string;
  /** The matched route's pattern (Express's request.route.path); undefined when nothing matched. */
  readonly routePath: string | undefined;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly authorization: string | undefined;
  readonly address: string;
}

export type ReadDecision =
  | { readonly allowed: true; readonly reader: Reader | undefined }
  | {
      readonly allowed: false;
      readonly status: 401 | 403 | 429 | 503;
      readonly rule: string;
      readonly message: string;
      readonly retryAfterS?: number;
    };

/** One service's read access: the rules of its routes and the authenticator. */
export class ReadAccess {
  private readonly rules;

  constructor(
    readonly service: ReadService,
    private readonly authenticator: ReaderAuthenticator,
  ) {
    this.rules = routeTable(service);
  }

  async decide(request: ReadRequest): Promise<ReadDecision> {
    const routeKey = `${request.method === 'HEAD' ? 'GET' : request.method} ${request.routePath ?? ''}`;
    const rule = this.rules.get(routeKey);
    if (rule === undefined)
      // Fail closed: a route nobody put in READ_ROUTES is refused to everyone, operators included.
      return {
        allowed: false,
        status: 403,
        rule: 'route-not-in-access-table',
        message: `${routeKey}: this route is not in the access table (libs/access read-routes.ts)`,
      };
    if (!needsCredential(rule)) return { allowed: true, reader: undefined };
    const token = /^Bearer +(\S{1,16384})$/i.exec(request.authorization ?? '')?.[1];
    if (token === undefined)
      return {
        allowed: false,
        status: 401,
        rule: 'bearer-credential',
        message: 'authorization: a credential is required: send "Authorization: Bearer <credential>"',
      };
    let authentication: Authentication;
    try {
      authentication = await this.authenticator.authenticate(token, request.address);
    } catch (error) {
      return {
        allowed: false,
        status: 503,
        rule: 'credential-store-available',
        message: `credentials cannot be checked right now (${(error as Error).message.slice(0, 200)})`,
      };
    }
    if (authentication.outcome === 'limited')
      return {
        allowed: false,
        status: 429,
        rule: 'failed-lookups-per-address',
        message:
          'too many unknown credentials from this address (ACCESS_FAILURES_PER_ADDRESS); retry after the Retry-After seconds',
        retryAfterS: authentication.retryAfterS,
      };
    if (authentication.outcome === 'unknown')
      return {
        allowed: false,
        status: 401,
        rule: 'known-credential',
        message: `authorization: ${authentication.reason}`,
      };
    const reader = authentication.reader;
    if (!mayRead(rule, reader.scopes, request))
      return {
        allowed: false,
        status: 403,
        rule: 'scope',
        message: `${routeKey}: outside this credential's scope; allowed: ${describeRule(rule)}`,
      };
    return { allowed: true, reader };
  }
}
