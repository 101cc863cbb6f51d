/** Small pieces both consumer loops (the batch transport and the transactional processor) share. */

/** A consumer that gave up ends the process so its supervisor restarts it; the offsets have not moved. */
export function exitForRestart(): void {
  process.exitCode = 1;
  process.kill(process.pid, 'SIGTERM');
}

/** Throws a RangeError naming the option unless each named option is an integer within its bounds. */
export function assertBounded<Options extends object>(owner: string, options: Options, bounds: Partial<Record<keyof Options, readonly [number, number]>>): void {
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

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
