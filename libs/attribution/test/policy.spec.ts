// Proves what the policy tells lineage, by version: which versions it knows, and (property, fast-check)
// that under v1 and v2 a contribution weighs its score times the part of the data share its datanet's
// curator leaves to contributors, as decideAttribution weighs it.
import fc from 'fast-check';
import { contributionWeight, isPolicyVersion } from '@tributary/attribution';

describe('the policy versions the library knows', () => {
  it('are 1 and 2; any other version is unknown', () => {
    expect([0, 1, 2, 3, -1].map(isPolicyVersion)).toEqual([false, true, true, false, false]);
  });
});

describe('a contribution weight under a known version (property)', () => {
  it('is score × (10000 − curator share bps)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1 as const, 2 as const),
        fc.bigInt({ min: 0n, max: 1_000_000n }),
        fc.integer({ min: 0, max: 10_000 }),
        (version, scorePpm, curatorShareBps) => {
          expect(contributionWeight(version, scorePpm, curatorShareBps)).toBe(
            scorePpm * (10_000n - BigInt(curatorShareBps)),
          );
        },
      ),
    );
  });
});
