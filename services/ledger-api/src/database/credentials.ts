import {
  createCredential,
  ensureCredentialTable,
  listCredentials,
  parseScopes,
  revokeCredential,
  type CredentialSummary,
  type NewSecretKey,
} from '@tributary/access';
import { withOwnerSql } from './owner-step';

/**
 * Issues a read credential with these scopes (`operator`, `analyst`, `participant:<accountId>`), through
 * the owner's connection; the table is made first when this runs before the API ever started. The
 * secret is returned once: only its SHA-256 is stored.
 */
export function issueReadCredential(
  ownerDatabaseUrl: string,
  scopes: readonly string[],
  label = '',
): Promise<NewSecretKey> {
  const parsed = parseScopes(scopes);
  return withOwnerSql(ownerDatabaseUrl, async (sql) => {
    await ensureCredentialTable(sql);
    return createCredential(sql, parsed, label);
  });
}

/** Revokes a credential by its id; false when there is no live one. Refused within ACCESS_CACHE_TTL_MS. */
export function revokeReadCredential(ownerDatabaseUrl: string, credentialId: string): Promise<boolean> {
  return withOwnerSql(ownerDatabaseUrl, async (sql) => {
    await ensureCredentialTable(sql);
    return revokeCredential(sql, credentialId);
  });
}

export function listReadCredentials(ownerDatabaseUrl: string): Promise<CredentialSummary[]> {
  return withOwnerSql(ownerDatabaseUrl, async (sql) => {
    await ensureCredentialTable(sql);
    return listCredentials(sql);
  });
}
