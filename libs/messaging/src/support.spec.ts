// Proves that a logged failure always says what failed, by describing the things that get thrown: an
// Error, a PostgreSQL error with its SQLSTATE, a plain object (which once logged as "[object Object]"),
// a string, and values JSON cannot print.
import { describe as describeError, RestartBudget, retryBackoffMs, sleepHeartbeating } from './support';

describe('describing a failure for a log line', () => {
  it("gives an Error's message", () => {
    expect(describeError(new Error('connection reset'))).toBe('connection reset');
  });

  it("puts PostgreSQL's SQLSTATE before the message", () => {
    const pgError = Object.assign(new Error('bigint out of range'), { code: '22003', severity: 'ERROR' });
    expect(describeError(pgError)).toBe('SQLSTATE 22003: bigint out of range');
  });

  it('shows a thrown plain object as JSON, never [object Object]', () => {
    expect(describeError({ reason: 'no leader', partition: 3 })).toBe('{"reason":"no leader","partition":3}');
    expect(describeError({ amountMinor: 2n ** 63n })).toBe('{"amountMinor":"9223372036854775808"}');
  });

  it('keeps a thrown string and bounds what it prints', () => {
    expect(describeError('broker gone')).toBe('broker gone');
    expect(describeError({ big: 'x'.repeat(5_000) }).length).toBe(1_000);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeError(cyclic)).toBe('a thrown Object that cannot be shown as JSON');
    expect(describeError(undefined)).toBe('undefined');
  });
});

describe('waiting between retries', () => {
  it('doubles from the base but never waits a third of the session timeout or more', () => {
    expect([1, 2, 3, 4].map((attempt) => retryBackoffMs(200, attempt, 30_000))).toEqual([200, 400, 800, 1_600]);
    expect(retryBackoffMs(200, 8, 30_000)).toBe(10_000);
    expect(retryBackoffMs(60_000, 100, 6_000)).toBe(2_000);
  });

  it('heartbeats the group at the heartbeat interval while it waits', async () => {
    let beats = 0;
    await sleepHeartbeating(25, 10, async () => {
      beats += 1;
    });
    expect(beats).toBe(3);
  });
});

describe('restarting a stopped consumer', () => {
  it('waits longer before each restart in a row, and refuses the one past the bound', () => {
    const budget = new RestartBudget(10, () => 0);
    const waits = Array.from({ length: 10 }, () => budget.next()!.waitMs);
    expect(waits).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
    expect(budget.next()).toBeNull();
  });

  it('counts again from one after a batch was done', () => {
    const budget = new RestartBudget(2, () => 0);
    expect([budget.next()?.restart, budget.next()?.restart, budget.next()]).toEqual([1, 2, null]);
    budget.progressed();
    expect(budget.next()).toEqual({ restart: 1, waitMs: 500 });
  });

  it('counts again from one after five quiet minutes, so an idle consumer is not worn down by separate faults', () => {
    let now = 0;
    const budget = new RestartBudget(2, () => now);
    budget.next();
    budget.next();
    now += 60_000;
    expect(budget.next()).toBeNull();
    now += 5 * 60_000;
    expect(budget.next()).toEqual({ restart: 1, waitMs: 500 });
  });
});
