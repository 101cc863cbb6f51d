import { PartitionLanes, type LaneOutcome } from './partition-lanes';

/** A batch that runs until its test settles it. */
function heldBatch() {
  let settle!: (finished: boolean) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<boolean>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  return { run: () => promise, settle, fail };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('PartitionLanes', () => {
  it("gives a partition's next batch the last one's outcome only once that batch and its after ran", async () => {
    const lanes = new PartitionLanes(2);
    const held = heldBatch();
    const seen: string[] = [];
    lanes.run('p0', 7, await lanes.place(), held.run, () => void seen.push('after'));
    const next = lanes.previous('p0').then((outcome) => {
      seen.push('next');
      return outcome;
    });
    await tick();
    expect(seen).toEqual([]);
    held.settle(true);
    expect(await next).toEqual<LaneOutcome>({ finished: true, generation: 7, error: null });
    expect(seen).toEqual(['after', 'next']);
    expect(await lanes.previous('p1')).toBeUndefined();
  });

  it('never runs more batches at once than its bound, and a freed place goes to a waiting one', async () => {
    const lanes = new PartitionLanes(2);
    const batches = [heldBatch(), heldBatch(), heldBatch()];
    lanes.run('p0', 1, await lanes.place(), batches[0]!.run, () => undefined);
    lanes.run('p1', 1, await lanes.place(), batches[1]!.run, () => undefined);
    let third = false;
    const placed = lanes.place().then((leave) => {
      third = true;
      return leave;
    });
    await tick();
    expect(third).toBe(false);
    expect(lanes.size).toBe(2);
    batches[1]!.settle(true);
    const leave = await placed;
    expect(lanes.size).toBe(2);
    // Given back twice, it counts once.
    leave();
    leave();
    expect(lanes.size).toBe(1);
    batches[0]!.settle(true);
    await lanes.settled();
    expect(lanes.size).toBe(0);
  });

  it('keeps what a failed batch threw, and its lane never rejects', async () => {
    const lanes = new PartitionLanes(1);
    const held = heldBatch();
    const outcomes: LaneOutcome[] = [];
    lanes.run('p0', 3, await lanes.place(), held.run, (outcome) => void outcomes.push(outcome));
    const failure = new Error('the database went away');
    held.fail(failure);
    await lanes.settled();
    expect(outcomes).toEqual([{ finished: false, generation: 3, error: failure }]);
    expect(await lanes.previous('p0')).toEqual({ finished: false, generation: 3, error: failure });
    expect(lanes.size).toBe(0);
  });

  it('refuses a bound that is not a positive integer, naming it', () => {
    expect(() => new PartitionLanes(0)).toThrow('concurrencyMax must be a positive integer, got 0');
  });
});
