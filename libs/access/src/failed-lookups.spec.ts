// Proves the pure parts of the defence against bad keys (the gateway's API keys, the read credentials):
// the per-address budget of failed look-ups (taken before a look-up, given back when it found a live key, a window per address from its
// first look-up, bounded memory) and the bounded, expiring memory of unknown key hashes.
import { FailedLookupBudget, SharedLookups, UnknownKeyMemory } from './failed-lookups';

describe('FailedLookupBudget', () => {
  it('allows the budget per address and window, then refuses with the seconds left in the window', () => {
    const budget = new FailedLookupBudget(3, 10_000);
    expect([1, 2, 3].map(() => budget.take('a', 1_000).allowed)).toEqual([true, true, true]);
    expect(budget.take('a', 2_500)).toEqual({ allowed: false, retryAfterS: 9 });
    expect(budget.take('b', 2_500).allowed).toBe(true);
    expect(budget.take('a', 11_000).allowed).toBe(true);
  });

  it('does not count look-ups that found a live key', () => {
    const budget = new FailedLookupBudget(1, 10_000);
    expect(budget.take('a', 0).allowed).toBe(true);
    budget.giveBack('a');
    expect(budget.take('a', 0).allowed).toBe(true);
    expect(budget.take('a', 0).allowed).toBe(false);
  });

  it('gives a refusal at least one second to wait', () => {
    const budget = new FailedLookupBudget(1, 1_000);
    budget.take('a', 0);
    expect(budget.take('a', 999)).toEqual({ allowed: false, retryAfterS: 1 });
  });

  it('remembers at most addressesMax addresses, forgetting expired windows and then the oldest', () => {
    const budget = new FailedLookupBudget(1, 10_000, 2);
    budget.take('a', 0);
    budget.take('b', 1);
    budget.take('c', 2); // forgets a, the oldest
    expect(budget.take('a', 3).allowed).toBe(true);
    expect(budget.take('c', 3).allowed).toBe(false);
  });
});

describe('UnknownKeyMemory', () => {
  it('remembers a hash for its TTL', () => {
    const memory = new UnknownKeyMemory(1_000);
    memory.remember('h', 0);
    expect(memory.has('h', 999)).toBe(true);
    expect(memory.has('h', 1_000)).toBe(false);
    expect(memory.has('other', 0)).toBe(false);
  });

  it('holds at most entriesMax hashes, forgetting the oldest', () => {
    const memory = new UnknownKeyMemory(1_000, 2);
    memory.remember('a', 0);
    memory.remember('b', 0);
    memory.remember('c', 0);
    expect([memory.has('a', 1), memory.has('b', 1), memory.has('c', 1)]).toEqual([false, true, true]);
  });

  it('remembers nothing with a TTL of 0', () => {
    const memory = new UnknownKeyMemory(0);
    memory.remember('a', 0);
    expect(memory.has('a', 0)).toBe(false);
  });
});

describe('SharedLookups', () => {
  it('lets concurrent askers join the look-up in flight, and starts afresh once it settled', async () => {
    const lookups = new SharedLookups<string>();
    let started = 0;
    const lookup = async () => {
      started += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return `answer ${started}`;
    };
    const first = lookups.start('hash-a', lookup);
    expect(lookups.joining('hash-a')).toBe(first);
    expect(lookups.joining('hash-b')).toBeUndefined();
    await expect(first).resolves.toBe('answer 1');
    expect(lookups.joining('hash-a')).toBeUndefined();
    await expect(lookups.start('hash-a', lookup)).resolves.toBe('answer 2');
  });

  it('forgets a look-up that failed, so the next asker tries again', async () => {
    const lookups = new SharedLookups<string>();
    await expect(lookups.start('hash', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(lookups.joining('hash')).toBeUndefined();
  });
});
