import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool, type PoolClient } from 'pg';
import { LEDGER_API_CONFIG, type LedgerApiConfig } from '../ledger-api.config';
import { READ_MODEL_SCHEMA } from './migrations/1764000000800-create-ledger-reader';

/**
 * The API's only database connection: the reader role, search_path on the live read model, every
 * session read-only, every statement bounded. Tables are named unqualified so a swapped-in `ledger`
 * schema is picked up by name on the next query.
 */
@Injectable()
export class ReaderPool implements OnApplicationShutdown {
  readonly pool: Pool;

  constructor(@Inject(LEDGER_API_CONFIG) config: LedgerApiConfig) {
    this.pool = new Pool({
      connectionString: config.readerDatabaseUrl,
      max: config.LEDGER_API_DB_POOL_MAX,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'tributary-ledger-api',
      options: `-c search_path=${READ_MODEL_SCHEMA} -c default_transaction_read_only=on -c statement_timeout=${config.LEDGER_API_STATEMENT_TIMEOUT_MS}`,
    });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(text, params)).rows as T[];
  }

  /** Several reads from one snapshot, so figures that belong together (a digest and its offsets) agree. */
  async snapshot<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
