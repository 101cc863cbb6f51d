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
