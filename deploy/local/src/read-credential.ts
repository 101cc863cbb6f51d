// The local stack's operator read credential: what `npm start` keeps for signing in to the dashboard and
// reading the ledger API and the payouts statements. Kept in a file only its owner reads, never printed.
import fs from 'node:fs';
import path from 'node:path';
import { ensureCredentialTable, findLiveCredential, hashSecretKey, READ_CREDENTIALS } from '@tributary/access';
import { issueReadCredential } from '../../../services/ledger-api/src/database/credentials';
import { withOwnerSql } from '../../../services/ledger-api/src/database/owner-step';

/**
 * The credential in `file` while the database still knows it as a live one; otherwise (first start, a
 * new database, a revocation) a new operator credential, written to the file with mode 0600.
 */
export async function ensureOperatorReadCredential(databaseUrl: string, file: string): Promise<string> {
  const kept = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
  if (READ_CREDENTIALS.looksLike(kept)) {
    const live = await withOwnerSql(databaseUrl, async (sql) => {
      await ensureCredentialTable(sql);
      return findLiveCredential(sql, hashSecretKey(kept));
    });
    if (live?.scopes.some((scope) => scope.kind === 'operator')) return kept;
  }
  const created = await issueReadCredential(databaseUrl, ['operator'], 'npm start (local operator)');
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, `${created.key}\n`, { mode: 0o600, flag: 'wx' });
  return created.key;
}
