import { Logger } from '@nestjs/common';
import { partitionKey } from '@tributary/messaging';

/** What a waiting GET /v1/freshness waits for: an inference's decision in the ledger, or a stored offset past one. */
export type FreshnessTarget =
  | { readonly kind: 'inference'; readonly inferenceId: string }
  | { readonly kind: 'offset'; readonly topic: string; readonly partition: number; readonly offset: bigint };

/** The two reads one check makes, whatever the number of waiters. */
export interface LedgerProgressReader {
  /** Which of these inference ids the ledger holds. */
  appliedInferences(inferenceIds: readonly string[]): Promise<ReadonlySet<string>>;
  /** The projector's stored next offset per partition, keyed by partitionKey (@tributary/messaging). */
  storedOffsets(): Promise<ReadonlyMap<string, bigint>>;
}

export interface FreshnessWaitsOptions {
  /** How often the waiters are checked while there are any. */
  readonly pollMs: number;
  /** Waiters at once; one more is refused (TooManyWaiters) rather than queued. */
  readonly waitersMax: number;
}

export class TooManyWaiters extends Error {
  override readonly name = 'TooManyWaiters';
}

interface Waiter {
  readonly target: FreshnessTarget;
  readonly settle: (reflected: boolean) => void;
}

/**
 * The waits of GET /v1/freshness?waitMs: a client asking "tell me when the ledger reflects this" holds
 * its request open instead of asking again every few milliseconds. Every waiter is checked by the same
 * two reads, one tick every `pollMs` while any wait: which of the waited-for inference ids the ledger
 * holds, and the projector's stored offsets. So a thousand waiting clients cost PostgreSQL what one
 * polling client did, and Kafka nothing; the answer itself is composed once, by the caller, when the
 * wait ends.
 *
 * A wait ends `true` when a check saw the target reflected, `false` at its deadline, when its signal
 * aborts (the client went away) or when the waits are closed (shutdown). A check that fails is said
 * (once until one succeeds) and the waits go on to their deadlines.
 */
export class FreshnessWaits {
  private readonly logger = new Logger(FreshnessWaits.name);
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | null = null;
  private checking = false;
  private failing = false;
  private closed = false;

  constructor(
    private readonly reader: LedgerProgressReader,
    private readonly options: FreshnessWaitsOptions,
  ) {}

  get size(): number {
    return this.waiters.size;
  }

  wait(target: FreshnessTarget, waitMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.closed || waitMs <= 0 || signal?.aborted) return Promise.resolve(false);
    if (this.waiters.size >= this.options.waitersMax) {
      return Promise.reject(new TooManyWaiters(`${this.waiters.size} requests are already waiting`));
    }
    return new Promise<boolean>((resolve) => {
      const deadline = setTimeout(() => settle(false), waitMs);
      const onAbort = () => settle(false);
      const waiter: Waiter = { target, settle: (reflected) => settle(reflected) };
      const settle = (reflected: boolean) => {
        if (!this.waiters.delete(waiter)) return;
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
        resolve(reflected);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.schedule();
    });
  }

  /** Ends every wait (false) and checks no more. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const waiter of [...this.waiters]) waiter.settle(false);
  }

  private schedule(): void {
    if (this.timer !== null || this.checking || this.closed || this.waiters.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check();
    }, this.options.pollMs);
  }

  private async check(): Promise<void> {
    this.checking = true;
    try {
      const waiting = [...this.waiters];
      const inferenceIds = [
        ...new Set(waiting.flatMap(({ target }) => (target.kind === 'inference' ? [target.inferenceId] : []))),
      ];
      const anyOffset = waiting.some(({ target }) => target.kind === 'offset');
      const [applied, stored] = await Promise.all([
        inferenceIds.length > 0 ? this.reader.appliedInferences(inferenceIds) : new Set<string>(),
        anyOffset ? this.reader.storedOffsets() : new Map<string, bigint>(),
      ]);
      if (this.failing) this.logger.log('freshness checks read the ledger again');
      this.failing = false;
      for (const waiter of waiting) {
        const { target } = waiter;
        const reflected =
          target.kind === 'inference'
            ? applied.has(target.inferenceId)
            : target.offset < (stored.get(partitionKey(target.topic, target.partition)) ?? 0n);
        if (reflected) waiter.settle(true);
      }
    } catch (error) {
      if (!this.failing)
        this.logger.warn(
          `freshness checks cannot read the ledger (waiting requests answer at their deadline): ${error instanceof Error ? error.message : String(error)}`,
        );
      this.failing = true;
    } finally {
      this.checking = false;
      this.schedule();
    }
  }
}
