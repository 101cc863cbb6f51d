import { Logger } from '@nestjs/common';
import { Client } from 'pg';

/**
 * The PostgreSQL channel the table fold notifies when it commits progress. NOTIFY is delivered at commit
 * to every session listening, in every attribution process (each folds some table partitions and decides
 * some inference partitions), so a decision waiting for the tables wakes when they move instead of on its
 * next poll. A notification carries nothing: the listener reads the progress itself, so a stray one from
 * another session of the database costs one read.
 */
export const TABLE_PROGRESS_CHANNEL = 'tributary_attribution_table_progress';

/** How long a reconnect waits after the listening session failed; the decider polls meanwhile. */
const RECONNECT_DELAY_MS = 1_000;

/**
 * Listens for table progress. `generation()` counts the notifications seen; `changedSince(generation, ms)`
 * resolves as soon as a later one arrives, or after `ms` (so a lost session or notification only costs
 * the old polling interval). The generation read before looking at the progress closes the race of a
 * notification arriving between the look and the wait.
 */
export class TableProgressSignal {
  private readonly logger = new Logger(TableProgressSignal.name);
  private client: Client | null = null;
  private seen = 0;
  private readonly waiters = new Set<() => void>();
  private stopped = false;
  private reconnecting = false;

  constructor(private readonly connectionString: string) {}

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.connectionString, application_name: 'attribution-listen' });
    client.on('notification', () => this.notified());
    client.on('error', (error) => {
      if (this.client !== client) return;
      this.logger.warn(`table progress notifications lost (${error.message}); polling until the session is back`);
      this.client = null;
      void client.end().catch(() => undefined);
      this.reconnectLater();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${TABLE_PROGRESS_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
  }

  generation(): number {
    return this.seen;
  }

  changedSince(generation: number, waitMsMax: number): Promise<void> {
    if (this.seen !== generation) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitMsMax);
      this.waiters.add(done);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of [...this.waiters]) wake();
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  private notified(): void {
    this.seen += 1;
    for (const wake of [...this.waiters]) wake();
  }

  private reconnectLater(): void {
    if (this.stopped || this.reconnecting) return;
    this.reconnecting = true;
    setTimeout(() => {
      this.reconnecting = false;
      if (this.stopped) return;
      this.start().catch((error: Error) => {
        this.logger.warn(`table progress notifications still unavailable (${error.message})`);
        this.reconnectLater();
      });
    }, RECONNECT_DELAY_MS).unref();
  }
}
