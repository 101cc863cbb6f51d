/**
 * A small seeded pseudo-random generator (mulberry32). The simulator must be deterministic: the same
 * seed gives the same economy on every machine, so a run can be reproduced from its seed alone.
 * Math.random() is never used.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: must be a safe integer (got ${seed})`);
    // Fold the seed into 32 bits; mulberry32 only keeps 32 bits of state.
    this.state = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min)
      throw new RangeError(`int: bad range [${min}, ${max}]`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick: no items to pick from');
    return items[this.int(0, items.length - 1)]!;
  }

  /** `count` distinct items (or all of them when there are fewer), in a random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const taken: T[] = [];
    while (taken.length < count && pool.length > 0) taken.push(pool.splice(this.int(0, pool.length - 1), 1)[0]!);
    return taken;
  }
}
