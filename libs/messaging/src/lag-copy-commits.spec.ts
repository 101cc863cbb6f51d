import { LagCopyCommits } from './lag-copy-commits';
import type { StoredOffset } from './offsets';

/** A commit function that records each call and completes only when the test says. */
function recordingCommits() {
  const calls: StoredOffset[][] = [];
  const completions: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const commit = (offsets: StoredOffset[]) => {
    calls.push(offsets);
    return new Promise<void>((resolve, reject) => completions.push({ resolve, reject }));
  };
  return { calls, completions, commit };
}

const settle = async () => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

describe("LagCopyCommits (Kafka's copy of offsets the database holds)", () => {
  let clock = 0;
  beforeEach(() => {
    jest.useFakeTimers();
    clock = 1_000_000;
  });
  afterEach(() => jest.useRealTimers());
  const advance = async (ms: number) => {
    clock += ms;
    await jest.advanceTimersByTimeAsync(ms);
    await settle();
  };

  it('sends the first note at once, then one commit per interval with the newest offset of every partition', async () => {
    const { calls, completions, commit } = recordingCommits();
    const commits = new LagCopyCommits(
      commit,
      200,
      () => undefined,
      () => clock,
    );
    commits.note({ topic: 't', partition: 0, offset: '5' });
    await advance(0);
    expect(calls).toEqual([[{ topic: 't', partition: 0, offset: '5' }]]);
    completions[0]!.resolve();
    await settle();

    // A hundred batches of three partitions within the interval: one commit, the newest offsets only.
    for (let batch = 1; batch <= 100; batch += 1) {
      for (const partition of [0, 1, 2]) commits.note({ topic: 't', partition, offset: String(5 + batch) });
    }
    await advance(199);
    expect(calls).toHaveLength(1);
    await advance(1);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual([0, 1, 2].map((partition) => ({ topic: 't', partition, offset: '105' })));
  });

  it('has at most one commit in flight: what is noted meanwhile goes in the next', async () => {
    const { calls, completions, commit } = recordingCommits();
    const commits = new LagCopyCommits(
      commit,
      10,
      () => undefined,
      () => clock,
    );
    commits.note({ topic: 't', partition: 0, offset: '1' });
    await advance(0);
    commits.note({ topic: 't', partition: 0, offset: '2' });
    await advance(1_000);
    expect(calls).toHaveLength(1);
    completions[0]!.resolve();
    await advance(0);
    expect(calls).toEqual([[{ topic: 't', partition: 0, offset: '1' }], [{ topic: 't', partition: 0, offset: '2' }]]);
  });

  it('flush() sends what is noted without waiting for the interval, and waits for it', async () => {
    const { calls, completions, commit } = recordingCommits();
    const commits = new LagCopyCommits(
      commit,
      60_000,
      () => undefined,
      () => clock,
    );
    commits.note({ topic: 't', partition: 0, offset: '1' });
    await advance(0);
    completions[0]!.resolve();
    commits.note({ topic: 't', partition: 1, offset: '7' });
    let flushed = false;
    const flushing = commits.flush().then(() => (flushed = true));
    await settle();
    expect(calls[1]).toEqual([{ topic: 't', partition: 1, offset: '7' }]);
    expect(flushed).toBe(false);
    completions[1]!.resolve();
    await flushing;
    expect(commits.pendingCount).toBe(0);
    // Nothing noted, nothing in flight: flush() sends nothing.
    await commits.flush();
    expect(calls).toHaveLength(2);
  });

  it('says a failed commit and drops its offsets; the next note carries the partition on', async () => {
    const { calls, completions, commit } = recordingCommits();
    const failures: Array<{ error: unknown; offsets: readonly StoredOffset[] }> = [];
    const commits = new LagCopyCommits(
      commit,
      100,
      (error, offsets) => failures.push({ error, offsets }),
      () => clock,
    );
    commits.note({ topic: 't', partition: 3, offset: '9' });
    await advance(0);
    const rebalance = new Error('The group is rebalancing');
    completions[0]!.reject(rebalance);
    await advance(1_000);
    expect(failures).toEqual([{ error: rebalance, offsets: [{ topic: 't', partition: 3, offset: '9' }] }]);
    expect(calls).toHaveLength(1);
    commits.note({ topic: 't', partition: 3, offset: '12' });
    await advance(0);
    expect(calls[1]).toEqual([{ topic: 't', partition: 3, offset: '12' }]);
  });

  it("keeps, on a new generation, only the partitions this member still holds: another's copy is not moved back", async () => {
    const { calls, completions, commit } = recordingCommits();
    const commits = new LagCopyCommits(
      commit,
      100,
      () => undefined,
      () => clock,
    );
    commits.note({ topic: 'a', partition: 0, offset: '1' });
    await advance(0);
    commits.note({ topic: 'a', partition: 0, offset: '4' });
    commits.note({ topic: 'a', partition: 1, offset: '8' });
    commits.note({ topic: 'b', partition: 0, offset: '2' });
    commits.retain({ a: [1], c: [0] });
    completions[0]!.resolve();
    await advance(100);
    expect(calls[1]).toEqual([{ topic: 'a', partition: 1, offset: '8' }]);
  });
});
