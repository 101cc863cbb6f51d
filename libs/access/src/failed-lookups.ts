// What keeps a flood of bad keys (the gateway's API keys, the read APIs' credentials) away from the
// database: a per-address budget of look-ups that found no live key, and a bounded memory of key hashes
// that found none. Both are in-process and pure (the clock is passed in), so they are unit-tested
// without a service.

/**
 * Each address may cause `budget` look-ups of keys that turn out unknown per window; past that, a key
 * the service does not already know is refused with 429 without a look-up. A look-up takes from the
 * budget before it runs (so concurrent requests cannot overshoot it) and gives back if it found a live
 * key (so only failures use it up). The window starts at an address's first look-up, not on a clock
 * boundary, so a burst cannot straddle two windows and spend two budgets.
 */
export class FailedLookupBudget {
  private readonly windows = new Map<string, { startedAtMs: number; used: number }>();

  constructor(
    private readonly budget: number,
    private readonly windowMs: number,
    /** Addresses remembered at once; past it the oldest window is forgotten (that address starts afresh). */
    private readonly addressesMax = 10_000,
  ) {}

  /** Takes one look-up for `address`; when none is left, the whole seconds until the window ends. */
  take(
    address: string,
    nowMs: number,
  ): { readonly allowed: true } | { readonly allowed: false; readonly retryAfterS: number } {
    let window = this.windows.get(address);
    if (window === undefined || nowMs - window.startedAtMs >= this.windowMs) {
      this.windows.delete(address);
      if (this.windows.size >= this.addressesMax) this.forgetOldest(nowMs);
      window = { startedAtMs: nowMs, used: 0 };
      this.windows.set(address, window);
    }
    if (window.used >= this.budget) {
      return {
        allowed: false,
        retryAfterS: Math.max(1, Math.ceil((window.startedAtMs + this.windowMs - nowMs) / 1_000)),
      };
    }
    window.used += 1;
    return { allowed: true };
  }

  /** Returns a look-up that found a live key: a valid producer never uses up its address's budget. */
  giveBack(address: string): void {
    const window = this.windows.get(address);
    if (window !== undefined && window.used > 0) window.used -= 1;
  }

  private forgetOldest(nowMs: number): void {
    for (const [address, window] of this.windows) {
      if (nowMs - window.startedAtMs >= this.windowMs) this.windows.delete(address);
    }
    // Map order is insertion order: the first entry is the oldest window still remembered.
    if (this.windows.size >= this.addressesMax) this.windows.delete(this.windows.keys().next().value!);
  }
}

/**
 * Hashes of keys a look-up found no live key for, each remembered for `ttlMs`, at most `entriesMax`
 * (the oldest forgotten first). Such an answer cannot go stale the other way: a key's secret is 256
 * random bits, so no key created later can have a hash seen before, and a revoked key stays revoked.
 * The TTL only bounds how long memory holds a hash; a newly created key is never refused by it.
 */
export class UnknownKeyMemory {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly entriesMax = 10_000,
  ) {}

  has(keyHash: string, nowMs: number): boolean {
    const expiresAtMs = this.expiries.get(keyHash);
    if (expiresAtMs === undefined) return false;
    if (expiresAtMs > nowMs) return true;
    this.expiries.delete(keyHash);
    return false;
  }

  remember(keyHash: string, nowMs: number): void {
    if (this.ttlMs === 0) return;
    this.expiries.delete(keyHash);
    if (this.expiries.size >= this.entriesMax) this.expiries.delete(this.expiries.keys().next().value!);
    this.expiries.set(keyHash, nowMs + this.ttlMs);
  }
}

/**
 * Look-ups in flight by key hash, so concurrent requests with the same key share one database round
 * trip: a producer's first burst, or every request in flight when its cache entry expires, is one look-up,
 * not one each. Only the request that starts a look-up takes from its address's budget; those that join
 * it spend nothing, so a burst with a valid key is never refused for having arrived at once, and a burst
 * with one unknown key costs the database one query.
 */
export class SharedLookups<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  /** The look-up of `keyHash` already running, if any. */
  joining(keyHash: string): Promise<T> | undefined {
    return this.inFlight.get(keyHash);
  }

  /** Starts `lookup` for `keyHash`; whoever asks for it until it settles joins this one. */
  start(keyHash: string, lookup: () => Promise<T>): Promise<T> {
    const running = lookup().finally(() => this.inFlight.delete(keyHash));
    this.inFlight.set(keyHash, running);
    return running;
  }
}
