/** Small pieces both consumer loops (the batch transport and the transactional processor) share. */

/** A consumer that gave up ends the process so its supervisor restarts it; the offsets have not moved. */
export function exitForRestart(): void {
  process.exitCode = 1;
  process.kill(process.pid, 'SIGTERM');
}

/** Throws a RangeError naming the option unless each named option is an integer within its bounds. */
export function assertBounded<Options extends object>(
  owner: string,
  options: Options,
  bounds: Partial<Record<keyof Options, readonly [number, number]>>,
): void {
  for (const [name, range] of Object.entries(bounds) as Array<[string, readonly [number, number]]>) {
    const value = (options as Record<string, unknown>)[name] as number;
    const [min, max] = range;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`${owner} option ${name}=${value} must be an integer from ${min} to ${max}`);
    }
  }
}

export function chunk<T>(items: readonly T[], sizeMax: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += sizeMax) chunks.push(items.slice(start, start + sizeMax));
  return chunks;
}

const DESCRIBED_CHARS_MAX = 1_000;

/**
 * A failure in one line for a log: its message, with PostgreSQL's SQLSTATE when it carries one (so an
 * operator sees `22003 bigint out of range`, not `[object Object]`). Anything thrown that is not an Error
 * is shown as JSON, bounded.
 */
export function describe(error: unknown): string {
  const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? `SQLSTATE ${code}: ` : '';
  if (typeof message === 'string' && message.length > 0) return `${sqlState}${message}`;
  if (typeof error === 'string') return error;
  let text: string;
  try {
    text =
      JSON.stringify(error, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)) ??
      String(error);
  } catch {
    text = `a thrown ${(error as object).constructor?.name ?? 'value'} that cannot be shown as JSON`;
  }
  return `${sqlState}${text}`.slice(0, DESCRIBED_CHARS_MAX);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The wait before retry `attempt` (1-based): exponential from `baseMs`, never longer than a third of the
 * consumer's session timeout, so a member that retries is never taken for dead.
 */
export function retryBackoffMs(baseMs: number, attempt: number, sessionTimeoutMs: number): number {
  return Math.min(baseMs * 2 ** Math.min(attempt - 1, 30), Math.floor(sessionTimeoutMs / 3));
}

/** Sleeps `ms`, heartbeating the group at least every `heartbeatIntervalMs` meanwhile. */
export async function sleepHeartbeating(
  ms: number,
  heartbeatIntervalMs: number,
  heartbeat: () => Promise<void>,
): Promise<void> {
  const sliceMs = Math.max(1, heartbeatIntervalMs);
  for (let remainingMs = ms; remainingMs > 0; remainingMs -= sliceMs) {
    await sleep(Math.min(sliceMs, remainingMs));
    await heartbeat();
  }
}

/**
 * Fresh consumers a consumer loop starts in a row after its consumer stopped on an error, with no
 * batch done in between; one more and the service exits. With the waits below they span about a minute
 * of broker trouble: longer than a KRaft cluster takes to fence a dead broker (9 s by default) and move
 * its coordinators and leaderships, far shorter than an outage an operator must look at.
 */
export const CONSUMER_RESTARTS_MAX = 10;
const RESTART_WAIT_MS_FIRST = 500;
const RESTART_WAIT_MS_MAX = 10_000;
/** A consumer that ran this long since its last restart starts counting again, even on an idle topic. */
const RESTART_QUIET_MS = 5 * 60_000;

/**
 * Counts the restarts of a consumer in a row and says how long to wait before the next one: doubling
 * from half a second to at most ten. A batch done (`progressed()`) or five quiet minutes start the count
 * again, so a service rides out any number of separate faults but not one that never ends.
 */
export class RestartBudget {
  private inARow = 0;
  private lastRestartMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly restartsMax: number = CONSUMER_RESTARTS_MAX,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The next restart's number and wait, or null once `restartsMax` restarts in a row were spent. */
  next(): { restart: number; waitMs: number } | null {
    const now = this.nowMs();
    if (now - this.lastRestartMs >= RESTART_QUIET_MS) this.inARow = 0;
    if (this.inARow >= this.restartsMax) return null;
    this.inARow += 1;
    this.lastRestartMs = now;
    return {
      restart: this.inARow,
      waitMs: Math.min(RESTART_WAIT_MS_FIRST * 2 ** (this.inARow - 1), RESTART_WAIT_MS_MAX),
    };
  }

  progressed(): void {
    this.inARow = 0;
  }
}
