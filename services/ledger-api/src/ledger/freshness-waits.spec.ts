import { Logger } from '@nestjs/common';
import { partitionKey } from '@tributary/messaging';
import { FreshnessWaits, TooManyWaiters, type LedgerProgressReader } from './freshness-waits';

/** A ledger whose contents the test sets, counting the reads the waits make. */
function ledger() {
  const applied = new Set<string>();
  const stored = new Map<string, bigint>();
  const reads = { inferences: 0, offsets: 0, idsAsked: 0, failing: false };
  const reader: LedgerProgressReader = {
    appliedInferences: async (ids) => {
      reads.inferences += 1;
      reads.idsAsked = Math.max(reads.idsAsked, ids.length);
      if (reads.failing) throw new Error('connection refused');
      return new Set(ids.filter((id) => applied.has(id)));
    },
    storedOffsets: async () => {
      reads.offsets += 1;
      if (reads.failing) throw new Error('connection refused');
      return new Map(stored);
    },
  };
  return { applied, stored, reads, reader };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('FreshnessWaits', () => {
  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterAll(() => jest.restoreAllMocks());

  it('checks a thousand waiting clients with two reads a tick, not one read each', async () => {
    const { applied, stored, reads, reader } = ledger();
    const waits = new FreshnessWaits(reader, { pollMs: 5, waitersMax: 10_000 });
    const inferences = Array.from({ length: 1_000 }, (_, index) =>
      waits.wait({ kind: 'inference', inferenceId: `inf-${index % 500}` }, 5_000),
    );
    const offset = waits.wait({ kind: 'offset', topic: 'tributary.payouts', partition: 2, offset: 7n }, 5_000);
    await sleep(40);
    expect(waits.size).toBe(1_001);
    for (let index = 0; index < 500; index += 1) applied.add(`inf-${index}`);
    stored.set(partitionKey('tributary.payouts', 2), 8n);
    await expect(Promise.all([...inferences, offset])).resolves.toEqual(Array(1_001).fill(true));
    // One read of each kind a tick, whatever the number of waiters, and each id asked once a tick.
    expect(Math.abs(reads.inferences - reads.offsets)).toBeLessThanOrEqual(1);
    expect(reads.inferences).toBeLessThan(30);
    expect(reads.idsAsked).toBe(500);
    expect(waits.size).toBe(0);
    const readsWhenIdle = reads.inferences + reads.offsets;
    await sleep(30);
    expect(reads.inferences + reads.offsets).toBe(readsWhenIdle);
  });

  it('answers false at the deadline, when the client goes away and at close, and only an offset past the target counts', async () => {
    const { stored, reader } = ledger();
    const waits = new FreshnessWaits(reader, { pollMs: 5, waitersMax: 10 });
    stored.set(partitionKey('t', 0), 7n);
    const startedAt = Date.now();
    await expect(waits.wait({ kind: 'offset', topic: 't', partition: 0, offset: 7n }, 60)).resolves.toBe(false);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(55);
    const gone = new AbortController();
    const abandoned = waits.wait({ kind: 'inference', inferenceId: 'x' }, 60_000, gone.signal);
    gone.abort();
    await expect(abandoned).resolves.toBe(false);
    const atShutdown = waits.wait({ kind: 'inference', inferenceId: 'y' }, 60_000);
    waits.close();
    await expect(atShutdown).resolves.toBe(false);
    await expect(waits.wait({ kind: 'inference', inferenceId: 'z' }, 60_000)).resolves.toBe(false);
    expect(waits.size).toBe(0);
  });

  it('refuses a waiter past the bound instead of queueing it, and a zero wait never waits', async () => {
    const { reader, reads } = ledger();
    const waits = new FreshnessWaits(reader, { pollMs: 5, waitersMax: 2 });
    const held = [1, 2].map((n) => waits.wait({ kind: 'inference', inferenceId: `i-${n}` }, 100));
    await expect(waits.wait({ kind: 'inference', inferenceId: 'i-3' }, 100)).rejects.toBeInstanceOf(TooManyWaiters);
    await expect(Promise.all(held)).resolves.toEqual([false, false]);
    const before = reads.inferences;
    await expect(waits.wait({ kind: 'inference', inferenceId: 'i-4' }, 0)).resolves.toBe(false);
    expect(reads.inferences).toBe(before);
  });

  it('keeps waiting through failing reads and says so once, until they work again', async () => {
    const { applied, reads, reader } = ledger();
    const warn = jest.spyOn(Logger.prototype, 'warn');
    warn.mockClear();
    const waits = new FreshnessWaits(reader, { pollMs: 5, waitersMax: 10 });
    reads.failing = true;
    const waiting = waits.wait({ kind: 'inference', inferenceId: 'late' }, 5_000);
    await sleep(50);
    expect(reads.inferences).toBeGreaterThan(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('connection refused');
    reads.failing = false;
    applied.add('late');
    await expect(waiting).resolves.toBe(true);
  });
});
