// The read credentials in PostgreSQL: one table, access.read_credentials, in a schema of its own. The
// ledger API's owner step creates it (the ledger API issues the credentials: `npm run ledger-api --
// credentials ...`); the ledger API's reader role and the payouts service's role may only SELECT it
// (libs/persistence DATABASE_ACCESS). Only a credential's SHA-256 is stored (SecretKeyFormat); its scopes
// are the text the operator typed.
// Written against a minimal query function, so a pg Pool, a pg Client and a TypeORM DataSource all fit.
import { SecretKeyFormat, type NewSecretKey } from './secret-keys';
import { formatScope, parseScopes, type Scope } from './scopes';

/** Runs one statement with bind parameters and returns its rows. */
export type Sql = <Row>(text: string, params?: unknown[]) => Promise<Row[]>;

export const ACCESS_SCHEMA = 'access';
export const CREDENTIALS_TABLE = `${ACCESS_SCHEMA}.read_credentials`;
/** Read credentials look like `trr_<12 hex id>_<43 base64url>`. */
export const READ_CREDENTIALS = new SecretKeyFormat('trr');
export const LABEL_MAX = 200;
const LIST_ROWS_MAX = 10_000;

export interface CredentialSummary {
  readonly credentialId: string;
  readonly scopes: string[];
  readonly label: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

interface CredentialRow {
  credential_id: string;
  scopes: string[];
  label: string;
  created_at: Date;
  revoked_at: Date | null;
}

/**
 * The schema and table, idempotent; under an advisory lock, so services and commands starting together
 * do not race on the catalog. Run with a role that may create schemas (the owner).
 */
export async function ensureCredentialTable(sql: Sql): Promise<void> {
  await sql(`
    DO $$ BEGIN
      PERFORM pg_advisory_xact_lock(hashtext('tributary.access.read_credentials'));
      CREATE SCHEMA IF NOT EXISTS ${ACCESS_SCHEMA};
      CREATE TABLE IF NOT EXISTS ${CREDENTIALS_TABLE} (
        credential_id text PRIMARY KEY CHECK (credential_id ~ '^[0-9a-f]{12}$'),
        secret_sha256 text NOT NULL UNIQUE CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
        scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
        label text NOT NULL DEFAULT '' CHECK (length(label) <= ${LABEL_MAX}),
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      );
    END $$`);
}

export async function createCredential(sql: Sql, scopes: readonly Scope[], label: string): Promise<NewSecretKey> {
  if (scopes.length === 0) throw new RangeError('scopes: must name at least one scope');
  if (label.length > LABEL_MAX || /[\u0000-\u001f\u007f]/.test(label))
    throw new RangeError(`label: must be at most ${LABEL_MAX} printable characters`);
  const created = READ_CREDENTIALS.generate();
  await sql(`INSERT INTO ${CREDENTIALS_TABLE} (credential_id, secret_sha256, scopes, label) VALUES ($1, $2, $3, $4)`, [
    created.keyId,
    created.keySha256,
    scopes.map(formatScope),
    label,
  ]);
  return created;
}

/** True when a live credential was revoked; false when there is no such credential or it was revoked before. */
export async function revokeCredential(sql: Sql, credentialId: string): Promise<boolean> {
  const rows = await sql<{ credential_id: string }>(
    `UPDATE ${CREDENTIALS_TABLE} SET revoked_at = now() WHERE credential_id = $1 AND revoked_at IS NULL RETURNING credential_id`,
    [credentialId],
  );
  return rows.length === 1;
}

export async function listCredentials(sql: Sql): Promise<CredentialSummary[]> {
  const rows = await sql<CredentialRow>(
    `SELECT credential_id, scopes, label, created_at, revoked_at FROM ${CREDENTIALS_TABLE} ORDER BY created_at, credential_id LIMIT ${LIST_ROWS_MAX}`,
  );
  return rows.map((row) => ({
    credentialId: row.credential_id,
    scopes: row.scopes,
    label: row.label,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  }));
}

/** The live credential with this secret, as its id and scopes; undefined for an unknown or revoked one. */
export async function findLiveCredential(
  sql: Sql,
  secretSha256: string,
): Promise<{ readonly credentialId: string; readonly scopes: Scope[] } | undefined> {
  const rows = await sql<{ credential_id: string; scopes: string[] }>(
    `SELECT credential_id, scopes FROM ${CREDENTIALS_TABLE} WHERE secret_sha256 = $1 AND revoked_at IS NULL`,
    [secretSha256],
  );
  const row = rows[0];
  return row === undefined ? undefined : { credentialId: row.credential_id, scopes: parseScopes(row.scopes) };
}
