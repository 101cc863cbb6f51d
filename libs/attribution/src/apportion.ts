import { compareIds } from './accounts';
import { sortInPlace } from './sort';
import { assert } from './errors';

/**
 * Splits `totalMinor` among accounts in proportion to integer weights by the largest remainder
 * (Hamilton) method: each account gets the floor of its exact quota, and the units left over go
 * one each to the largest fractional remainders, ties to the smaller account id. The amounts sum to
 * the total exactly and each is within one unit of its exact quota. Only integers are used, so the
 * result is the same on every machine.
 *
 * The result has one entry per weighted account, zero amounts included, in account id order.
 */
export function apportionLargestRemainder(
  totalMinor: bigint,
  weights: ReadonlyMap<string, bigint>,
): Map<string, bigint> {
  assert(totalMinor >= 0n, () => `cannot apportion a negative total ${totalMinor}`);
  let weightTotal = 0n;
  for (const weight of weights.values()) {
    assert(weight >= 0n, () => `negative weight ${weight}`);
    weightTotal += weight;
  }
  assert(weightTotal > 0n, 'cannot apportion over weights that sum to zero');

  const shares: Array<{ readonly account: string; readonly floorMinor: bigint; readonly remainder: bigint }> = [];
  let leftoverMinor = totalMinor;
  weights.forEach((weight, account) => {
    const quota = totalMinor * weight;
    const floorMinor = quota / weightTotal;
    // The fractional part of the quota, scaled by weightTotal so it stays an integer.
    shares.push({ account, floorMinor, remainder: quota - floorMinor * weightTotal });
    leftoverMinor -= floorMinor;
  });
  // The fractional parts sum to leftoverMinor, and each is below one, so there are more non-zero
  // remainders than leftover units and nobody gets more than one extra unit.
  assert(leftoverMinor >= 0n && leftoverMinor < BigInt(shares.length), () => `leftover ${leftoverMinor} out of range`);

  // The leftover units go one each to the largest remainders, ties to the smaller account id.
  let extras: ReadonlySet<string> = NO_EXTRAS;
  if (leftoverMinor > 0n) {
    const ranked = sortInPlace([...shares], (left, right) => {
      if (left.remainder !== right.remainder) return left.remainder > right.remainder ? -1 : 1;
      return compareIds(left.account, right.account);
    });
    const extraCount = Number(leftoverMinor);
    const receivers = new Set<string>();
    for (let rank = 0; rank < extraCount; rank += 1) {
      const share = ranked[rank]!;
      assert(share.remainder > 0n, () => `extra unit for ${share.account} without a remainder`);
      receivers.add(share.account);
    }
    extras = receivers;
  }
  sortInPlace(shares, (left, right) => compareIds(left.account, right.account));
  const amounts = new Map<string, bigint>();
  for (const share of shares)
    amounts.set(share.account, extras.has(share.account) ? share.floorMinor + 1n : share.floorMinor);
  return amounts;
}

const NO_EXTRAS: ReadonlySet<string> = new Set();
