import {
  compactDuration,
  offsetsBehind,
  partitionProgress,
  ProgressLines,
  progressLine,
  slowestPartition,
} from './rebuild-progress';
import { unreachableTargets } from './rebuild-engine';

const positions = new Map([
  ['tributary.attributions/0', 900n],
  ['tributary.attributions/1', 100n],
  ['tributary.payouts/0', 0n],
]);
const targets = new Map([
  ['tributary.attributions/0', 1_000n],
  ['tributary.attributions/1', 5_000n],
  ['tributary.attributions/2', 200n],
  ['tributary.payouts/0', 40n],
]);

describe('rebuild progress', () => {
  const partitions = partitionProgress(positions, targets);

  it('reads every partition of the targets, at 0 where it has no position', () => {
    expect(partitions).toEqual([
      { topic: 'tributary.attributions', partition: 0, position: 900n, target: 1_000n },
      { topic: 'tributary.attributions', partition: 1, position: 100n, target: 5_000n },
      { topic: 'tributary.attributions', partition: 2, position: 0n, target: 200n },
      { topic: 'tributary.payouts', partition: 0, position: 0n, target: 40n },
    ]);
    expect(offsetsBehind(partitions)).toBe(100n + 4_900n + 200n + 40n);
    expect(slowestPartition(partitions)).toEqual(
      expect.objectContaining({ topic: 'tributary.attributions', partition: 1 }),
    );
    expect(slowestPartition([])).toBeUndefined();
  });

  it('says what is applied, how fast, how long is left and which partition is furthest behind', () => {
    const total = 6_240;
    const line = progressLine({ applied: 990, rejected: 0, partitions }, total, 10_000);
    expect(line).toBe(
      'rebuild: 990 records applied, 1,000 of 6,240 offsets (16%), 99 records/s, ETA 53s; slowest tributary.attributions[1] at 100 of 5,000',
    );
    expect(progressLine({ applied: 990, rejected: 2, partitions }, total, 10_000)).toMatch(
      /; 2 refused \(counted, not dead-lettered again\)$/,
    );
    expect(progressLine({ applied: 0, rejected: 0, partitions }, 5_240, 0)).toContain(
      '0 of 5,240 offsets (0%), 0 records/s, ETA ?;',
    );
    const done = partitionProgress(targets, targets);
    expect(progressLine({ applied: 6_240, rejected: 0, partitions: done }, total, 2_000)).toBe(
      'rebuild: 6,240 records applied, 6,240 of 6,240 offsets (100%), 3,120 records/s, ETA 0s; slowest tributary.attributions[0] at 1,000 of 1,000',
    );
    expect(progressLine({ applied: 0, rejected: 0, partitions: [] }, 0, 5)).toContain('(100%)');
  });

  it('writes durations compactly', () => {
    expect([0.2, 42, 200, 3_900, Number.POSITIVE_INFINITY].map(compactDuration)).toEqual([
      '1s',
      '42s',
      '3m20s',
      '1h05m',
      '?',
    ]);
  });

  it('prints a line every interval and a last one when stopped', () => {
    jest.useFakeTimers();
    try {
      const lines: string[] = [];
      let now = 0;
      let applied = 0;
      const printer = new ProgressLines(
        () => ({ applied, rejected: 0, partitions }),
        6_240,
        (line) => lines.push(line),
        10_000,
        () => now,
      ).start();
      now = 9_999;
      jest.advanceTimersByTime(9_999);
      expect(lines).toEqual([]);
      applied = 500;
      now = 10_000;
      jest.advanceTimersByTime(1);
      expect(lines).toHaveLength(1);
      now = 25_000;
      jest.advanceTimersByTime(15_000);
      expect(lines).toHaveLength(2);
      printer.stop();
      printer.stop();
      expect(lines).toHaveLength(3);
      jest.advanceTimersByTime(60_000);
      expect(lines).toHaveLength(3);
      expect(
        () =>
          new ProgressLines(
            () => ({ applied, rejected: 0, partitions }),
            1,
            () => undefined,
            0,
          ),
      ).toThrow(RangeError);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('unreachable rebuild targets', () => {
  const ends = new Map([
    ['tributary.attributions/0', 1_000n],
    ['tributary.attributions/1', 5_000n],
    ['tributary.payouts/0', 40n],
  ]);

  it('names each partition whose target is past its end, or that does not exist', () => {
    expect(unreachableTargets(new Map([['tributary.attributions/0', 1_000n]]), ends)).toEqual([]);
    expect(
      unreachableTargets(
        new Map([
          ['tributary.attributions/0', 0n],
          ['tributary.attributions/7', 0n],
        ]),
        ends,
      ),
    ).toEqual([]);
    expect(
      unreachableTargets(
        new Map([
          ['tributary.attributions/0', 1_001n],
          ['tributary.attributions/1', 10n],
          ['tributary.attributions/7', 3n],
        ]),
        ends,
      ),
    ).toEqual([
      'tributary.attributions[0]: target offset 1001 is past the end of the partition (offset 1000)',
      'tributary.attributions[7]: target offset 3 is in a partition the broker does not have',
    ]);
  });
});
