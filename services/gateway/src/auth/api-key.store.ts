import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { FailedLookupBudget, SharedLookups, UnknownKeyMemory } from '@tributary/access';
import {
  generateApiKey,
  hashApiKey,
  looksLikeApiKey,
  scopeProblems,
  type ApiKeyScope,
  type NewApiKey,
} from './api-key';

export interface ApiKeySummary extends ApiKeyScope {
  readonly keyId: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

const CACHE_ENTRIES_MAX = 10_000;
const LIST_ROWS_MAX = 10_000;

interface ApiKeyRecord {
  key_id: string;
  producer_id: string;
  event_types: string[];
  datanet_ids: string[];
  model_ids: string[];
  created_at: Date;
  revoked_at: Date | null;
}

/** API keys in the gateway schema. Used by the gateway (lookup) and by the keys CLI (create, revoke, list). */
export class ApiKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  async create(scope: ApiKeyScope): Promise<NewApiKey> {
    const problems = scopeProblems(scope);
    if (problems.length > 0) throw new RangeError(problems.join('; '));
    const created = generateApiKey();
    await this.dataSource.query(
      'INSERT INTO api_keys (key_id, key_sha256, producer_id, event_types, datanet_ids, model_ids) VALUES ($1, $2, $3, $4, $5, $6)',
      [created.keyId, created.keySha256, scope.producerId, scope.eventTypes, scope.datanetIds, scope.modelIds],
    );
    return created;
  }

  /** True when a live key was revoked; false when there is no such key or it was revoked before. */
  async revoke(keyId: string): Promise<boolean> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      'UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL',
      [keyId],
    );
    return affected === 1;
  }

  async list(): Promise<ApiKeySummary[]> {
    const rows = await this.dataSource.query<ApiKeyRecord[]>(
      `SELECT * FROM api_keys ORDER BY created_at, key_id LIMIT ${LIST_ROWS_MAX}`,
    );
    return rows.map(summaryOf);
  }

  /** A live key, or undefined for an unknown or revoked one. */
  async findLive(key: string): Promise<ApiKeySummary | undefined> {
    if (!looksLikeApiKey(key)) return undefined;
    return this.findLiveByHash(hashApiKey(key));
  }

  async findLiveByHash(keySha256: string): Promise<ApiKeySummary | undefined> {
    const rows = await this.dataSource.query<ApiKeyRecord[]>(
      'SELECT * FROM api_keys WHERE key_sha256 = $1 AND revoked_at IS NULL',
      [keySha256],
    );
    return rows[0] ? summaryOf(rows[0]) : undefined;
  }
}

function summaryOf(row: ApiKeyRecord): ApiKeySummary {
  return {
    keyId: row.key_id,
    producerId: row.producer_id,
    eventTypes: row.event_types,
    datanetIds: row.datanet_ids,
    modelIds: row.model_ids,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/** What authenticating a key came to: its record, unknown (or revoked), or refused before any look-up. */
export type Authentication =
  | { readonly outcome: 'live'; readonly key: ApiKeySummary }
  | { readonly outcome: 'unknown' }
  | { readonly outcome: 'limited'; readonly retryAfterS: number };

/**
 * Key lookups for requests, cached briefly: a lookup per request would add a database round trip to
 * every event. A revoked key keeps working for at most GATEWAY_KEY_CACHE_TTL_MS.
 *
 * Bad keys are kept away from the database three ways, cheapest first: a key of the wrong shape is
 * refused without a look-up; a key a look-up found unknown or revoked is remembered by its hash for
 * GATEWAY_UNKNOWN_KEY_CACHE_TTL_MS (a key created later has another hash, so it works the moment it is
 * created); and each client address may cause at most GATEWAY_AUTH_FAILURES_PER_ADDRESS failed look-ups
 * per GATEWAY_AUTH_FAILURE_WINDOW_MS, after which a key not already cached is a 429 without a look-up.
 * A cached live key is served whatever its address did, so a flood from a shared address does not lock
 * out the producers already working there; a producer there whose key is not cached waits for the window.
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly repository: ApiKeyRepository;
  private readonly cache = new Map<string, { key: ApiKeySummary; expiresAtMs: number }>();
  private readonly unknownKeys: UnknownKeyMemory;
  private readonly failedLookups: FailedLookupBudget;
  private readonly lookups = new SharedLookups<ApiKeySummary | undefined>();

  constructor(
    dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly metrics: GatewayMetrics,
  ) {
    this.repository = new ApiKeyRepository(dataSource);
    this.unknownKeys = new UnknownKeyMemory(config.GATEWAY_UNKNOWN_KEY_CACHE_TTL_MS, CACHE_ENTRIES_MAX);
    this.failedLookups = new FailedLookupBudget(
      config.GATEWAY_AUTH_FAILURES_PER_ADDRESS,
      config.GATEWAY_AUTH_FAILURE_WINDOW_MS,
    );
  }

  /** Authenticates `key` for a request from `address`; throws only when the key store cannot be read. */
  async authenticate(key: string, address: string): Promise<Authentication> {
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && cached.expiresAtMs > now) return { outcome: 'live', key: cached.key };
    if (!looksLikeApiKey(key)) return { outcome: 'unknown' };
    const keySha256 = hashApiKey(key);
    if (this.unknownKeys.has(keySha256, now)) return { outcome: 'unknown' };
    const joined = this.lookups.joining(keySha256);
    if (joined !== undefined) {
      const shared = await joined;
      return shared === undefined ? { outcome: 'unknown' } : { outcome: 'live', key: shared };
    }
    // Taken before the look-up, so concurrent requests cannot all pass before the first failure is counted;
    // a look-up that throws (the database is down) keeps it, so a flood during an outage is bounded too.
    const budget = this.failedLookups.take(address, now);
    if (!budget.allowed) return { outcome: 'limited', retryAfterS: budget.retryAfterS };
    const found = await this.lookups.start(keySha256, () => this.lookUp(key, keySha256, address, now));
    return found === undefined ? { outcome: 'unknown' } : { outcome: 'live', key: found };
  }

  /** One database look-up and what it teaches: the metric, the unknown-key memory or the cache, the budget back. */
  private async lookUp(
    key: string,
    keySha256: string,
    address: string,
    now: number,
  ): Promise<ApiKeySummary | undefined> {
    const found = await this.repository.findLiveByHash(keySha256);
    this.metrics.keyLookups.inc({ outcome: found ? 'live' : 'unknown' });
    if (found === undefined) {
      this.cache.delete(key);
      this.unknownKeys.remember(keySha256, Date.now());
      return undefined;
    }
    this.failedLookups.giveBack(address);
    if (this.config.GATEWAY_KEY_CACHE_TTL_MS > 0) {
      if (this.cache.size >= CACHE_ENTRIES_MAX) this.cache.clear();
      this.cache.set(key, { key: found, expiresAtMs: now + this.config.GATEWAY_KEY_CACHE_TTL_MS });
    }
    return found;
  }
}
