import { PartitionLanes, type LaneOutcome } from './partition-lanes';

/** A batch that runs until its test settles it. */
function heldBatch() {
  let settle!: (finished: boolean) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<boolean>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  return { promise, settle, fail };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('PartitionLanes', () => {
  it('runs what was added while a batch ran as one batch after it, and then settles', async () => {
    const lanes = new PartitionLanes<string>(2, 10);
    const held = [heldBatch(), heldBatch()];
    const batches: string[][] = [];
    const outcomes: LaneOutcome[] = [];
    lanes.start(
      'p0',
      7,
      await lanes.place(),
      ['a'],
      (items) => {
        batches.push([...items]);
        return held[batches.length - 1]!.promise;
      },
      (outcome) => void outcomes.push(outcome),
    );
    expect(lanes.add('p0', 7, ['b'])).toBe(1);
    expect(lanes.add('p0', 7, ['c'])).toBe(2);
    // Another generation's records never join this lane, nor another partition's.
    expect(lanes.add('p0', 8, ['x'])).toBeNull();
    expect(lanes.add('p1', 7, ['y'])).toBeNull();
    held[0]!.settle(true);
    await tick();
    expect(batches).toEqual([['a'], ['b', 'c']]);
    const next = lanes.previous('p0');
    held[1]!.settle(true);
    expect(await next).toEqual<LaneOutcome>({ finished: true, generation: 7, error: null });
    expect(outcomes).toHaveLength(1);
    // The lane took its last batch: the next records start a lane of their own.
    expect(lanes.add('p0', 7, ['d'])).toBeNull();
    expect(lanes.size).toBe(0);
  });

  it('resumes a partition paused for a full lane once the lane takes what waited', async () => {
    const lanes = new PartitionLanes<number>(1, 2);
    const held = [heldBatch(), heldBatch()];
    let calls = 0;
    lanes.start(
      'p0',
      1,
      await lanes.place(),
      [1],
      () => held[calls++]!.promise,
      () => undefined,
    );
    expect(lanes.add('p0', 1, [2, 3])).toBe(2);
    let resumed = false;
    lanes.whenTaken('p0', () => (resumed = true));
    await tick();
    expect(resumed).toBe(false);
    held[0]!.settle(true);
    await tick();
    expect(resumed).toBe(true);
    // With no lane running, a pause is given back at once.
    held[1]!.settle(true);
    await lanes.settled();
    let again = false;
    lanes.whenTaken('p0', () => (again = true));
    expect(again).toBe(true);
  });

  it('never runs more lanes at once than its bound, and a freed place goes to a waiting one', async () => {
    const lanes = new PartitionLanes<number>(2, 10);
    const held = [heldBatch(), heldBatch()];
    lanes.start(
      'p0',
      1,
      await lanes.place(),
      [0],
      () => held[0]!.promise,
      () => undefined,
    );
    lanes.start(
      'p1',
      1,
      await lanes.place(),
      [0],
      () => held[1]!.promise,
      () => undefined,
    );
    let third = false;
    const placed = lanes.place().then((leave) => {
      third = true;
      return leave;
    });
    await tick();
    expect(third).toBe(false);
    expect(lanes.size).toBe(2);
    held[1]!.settle(true);
    const leave = await placed;
    expect(lanes.size).toBe(2);
    // Given back twice, it counts once.
    leave();
    leave();
    expect(lanes.size).toBe(1);
    held[0]!.settle(true);
    await lanes.settled();
    expect(lanes.size).toBe(0);
  });

  it('drops what waited when a batch fails, keeps what it threw, and never rejects', async () => {
    const lanes = new PartitionLanes<string>(1, 10);
    const held = heldBatch();
    const batches: string[][] = [];
    const outcomes: LaneOutcome[] = [];
    lanes.start(
      'p0',
      3,
      await lanes.place(),
      ['a'],
      (items) => {
        batches.push([...items]);
        return held.promise;
      },
      (outcome) => void outcomes.push(outcome),
    );
    lanes.add('p0', 3, ['b']);
    const failure = new Error('the database went away');
    held.fail(failure);
    await lanes.settled();
    expect(batches).toEqual([['a']]);
    expect(outcomes).toEqual([{ finished: false, generation: 3, error: failure }]);
    expect(await lanes.previous('p0')).toEqual({ finished: false, generation: 3, error: failure });
    expect(lanes.add('p0', 3, ['c'])).toBeNull();
    expect(lanes.size).toBe(0);
  });

  it('refuses bounds that are not positive integers, naming them', () => {
    expect(() => new PartitionLanes(0, 1)).toThrow('concurrencyMax must be a positive integer, got 0');
    expect(() => new PartitionLanes(1, 1.5)).toThrow('queuedMax must be a positive integer, got 1.5');
  });
});
