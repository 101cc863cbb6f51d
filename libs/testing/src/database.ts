import { randomUUID } from 'node:crypto';
import { dropDatabase, ensurePostgres, withDatabase } from '@tributary/local-stack';

/** The server global setup chose; each test file makes a database of its own on it. */
export function testDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run integration tests through jest --selectProjects integration');
  return url;
}

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database; tests run migrations into it exactly as a service does at start-up. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `t_${prefix.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomUUID().slice(0, 8)}`;
  const url = withDatabase(new URL(testDatabaseUrl()), name);
  await ensurePostgres(url);
  return { url, drop: () => dropDatabase(url) };
}
