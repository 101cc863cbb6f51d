import { parsePositionKey } from './ledger-queries';

/** Where one partition of a rebuild stands against the offset it runs to. */
export interface PartitionProgress {
  readonly topic: string;
  readonly partition: number;
  readonly position: bigint;
  readonly target: bigint;
}

/** A rebuild's progress as its runner sees it: records applied and refused, and every partition it runs. */
export interface RebuildProgress {
  readonly applied: number;
  readonly rejected: number;
  readonly partitions: readonly PartitionProgress[];
}

/** The partitions of `targets` with the positions of `positions` (a partition without one stands at 0). */
export function partitionProgress(
  positions: ReadonlyMap<string, bigint>,
  targets: ReadonlyMap<string, bigint>,
): PartitionProgress[] {
  return [...targets].map(([partitionKey, target]) => ({
    ...parsePositionKey(partitionKey),
    position: positions.get(partitionKey) ?? 0n,
    target,
  }));
}

const behind = (partition: PartitionProgress): bigint =>
  partition.target > partition.position ? partition.target - partition.position : 0n;

/** The partition furthest from its target (the first of equals), or undefined when there is none. */
export function slowestPartition(partitions: readonly PartitionProgress[]): PartitionProgress | undefined {
  let slowest: PartitionProgress | undefined;
  for (const partition of partitions)
    if (slowest === undefined || behind(partition) > behind(slowest)) slowest = partition;
  return slowest;
}

/** Offsets still between the positions and the targets. */
export function offsetsBehind(partitions: readonly PartitionProgress[]): bigint {
  return partitions.reduce((sum, partition) => sum + behind(partition), 0n);
}

const count = (value: number | bigint) => value.toLocaleString('en-US');

/** A duration in whole seconds, compact enough for a log line: 42s, 3m20s, 1h05m. */
export function compactDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3_600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3_600)}h${String(Math.floor((whole % 3_600) / 60)).padStart(2, '0')}m`;
}

/**
 * One progress line: records applied, offsets passed of the total (transaction markers count as
 * offsets, so the percentage reaches 100), the rate, the time left at the rate so far, and the partition
 * furthest behind; refusals when there are any.
 * e.g. `rebuild: 52,000 records applied, 52,410 of 100,000 offsets (52%), 10,400 records/s, ETA 5s; slowest tributary.attributions[3] at 8,100 of 17,000`
 */
export function progressLine(progress: RebuildProgress, totalOffsets: number, elapsedMs: number): string {
  const remaining = Number(offsetsBehind(progress.partitions));
  const passed = Math.max(0, totalOffsets - remaining);
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const percent = totalOffsets === 0 ? 100 : Math.floor((passed / totalOffsets) * 100);
  const eta = remaining === 0 ? '0s' : passed === 0 ? '?' : compactDuration(remaining / (passed / seconds));
  const slowest = slowestPartition(progress.partitions);
  const where =
    slowest === undefined
      ? 'no partition to apply'
      : `slowest ${slowest.topic}[${slowest.partition}] at ${count(slowest.position)} of ${count(slowest.target)}`;
  const refused =
    progress.rejected > 0 ? `; ${count(progress.rejected)} refused (counted, not dead-lettered again)` : '';
  return `rebuild: ${count(progress.applied)} records applied, ${count(passed)} of ${count(totalOffsets)} offsets (${percent}%), ${count(Math.round(progress.applied / seconds))} records/s, ETA ${eta}; ${where}${refused}`;
}

/**
 * Progress as plain lines every `intervalMs`, for a log or a pipe, where a redrawn bar would be noise
 * (or, as cli-progress does on a non-terminal, nothing at all). `stop` prints a last line.
 */
export class ProgressLines {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedMs: number;

  constructor(
    private readonly read: () => RebuildProgress,
    private readonly totalOffsets: number,
    private readonly write: (line: string) => void,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(intervalMs) || intervalMs < 1)
      throw new RangeError(`progress interval ${intervalMs} ms: must be a positive integer`);
    this.startedMs = now();
  }

  start(): this {
    this.timer = setInterval(() => this.print(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  print(): void {
    this.write(progressLine(this.read(), this.totalOffsets, this.now() - this.startedMs));
  }

  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.print();
  }
}
