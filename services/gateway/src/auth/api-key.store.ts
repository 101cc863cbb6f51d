import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
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

  /** The scope of a live key, or undefined for an unknown or revoked one. */
  async findLive(key: string): Promise<ApiKeyScope | undefined> {
    if (!looksLikeApiKey(key)) return undefined;
    const rows = await this.dataSource.query<ApiKeyRecord[]>(
      'SELECT * FROM api_keys WHERE key_sha256 = $1 AND revoked_at IS NULL',
      [hashApiKey(key)],
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

/**
 * Key lookups for requests, cached briefly: a lookup per request would add a database round trip to
 * every event. A revoked key keeps working for at most GATEWAY_KEY_CACHE_TTL_MS; unknown keys are never
 * cached, so a key works the moment it is created.
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly repository: ApiKeyRepository;
  private readonly cache = new Map<string, { scope: ApiKeyScope; expiresAtMs: number }>();

  constructor(
    dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.repository = new ApiKeyRepository(dataSource);
  }

  async authenticate(key: string): Promise<ApiKeyScope | undefined> {
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && cached.expiresAtMs > now) return cached.scope;
    const scope = await this.repository.findLive(key);
    if (scope === undefined || this.config.GATEWAY_KEY_CACHE_TTL_MS === 0) {
      this.cache.delete(key);
      return scope;
    }
    if (this.cache.size >= CACHE_ENTRIES_MAX) this.cache.clear();
    this.cache.set(key, { scope, expiresAtMs: now + this.config.GATEWAY_KEY_CACHE_TTL_MS });
    return scope;
  }
}
