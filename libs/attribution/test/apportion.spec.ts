// Proves the largest-remainder rounding on its own: fast-check checks that amounts sum to the total, stay within one unit of the exact quota and give leftover units exactly by largest remainder then account id; examples pin the tie rule.
import fc from 'fast-check';
import { AttributionAssertionError, FEE_MINOR_MAX, apportionLargestRemainder } from '@tributary/attribution';

const weightsArbitrary = fc
  .uniqueArray(
    fc.tuple(
      fc.stringMatching(/^[a-z]{1,3}$/),
      fc.oneof(fc.bigInt({ min: 0n, max: 10n }), fc.bigInt({ min: 0n, max: 10n ** 18n })),
    ),
    { selector: ([account]) => account, minLength: 1, maxLength: 30 },
  )
  .filter((entries) => entries.some(([, weight]) => weight > 0n))
  .map((entries) => new Map(entries));

const totalArbitrary = fc.oneof(fc.bigInt({ min: 0n, max: 50n }), fc.bigInt({ min: 0n, max: FEE_MINOR_MAX }));

describe('any total and any non-zero weights', () => {
  it('then the amounts sum to the total and each is the floor or the ceiling of its exact quota', () => {
    fc.assert(
      fc.property(totalArbitrary, weightsArbitrary, (totalMinor, weights) => {
        const amounts = apportionLargestRemainder(totalMinor, weights);
        const weightTotal = [...weights.values()].reduce((sum, weight) => sum + weight, 0n);
        let sumMinor = 0n;
        for (const [account, weight] of weights) {
          const amountMinor = amounts.get(account)!;
          const floorMinor = (totalMinor * weight) / weightTotal;
          expect(amountMinor - floorMinor === 0n || amountMinor - floorMinor === 1n).toBe(true);
          sumMinor += amountMinor;
        }
        expect(sumMinor).toBe(totalMinor);
      }),
      { numRuns: 300 },
    );
  });

  it('then an account that got an extra unit never has a smaller remainder, or an equal one and a larger id, than one that did not', () => {
    fc.assert(
      fc.property(totalArbitrary, weightsArbitrary, (totalMinor, weights) => {
        const amounts = apportionLargestRemainder(totalMinor, weights);
        const weightTotal = [...weights.values()].reduce((sum, weight) => sum + weight, 0n);
        const rows = [...weights].map(([account, weight]) => ({
          account,
          remainder: (totalMinor * weight) % weightTotal,
          extra: amounts.get(account)! > (totalMinor * weight) / weightTotal,
        }));
        for (const winner of rows.filter((row) => row.extra)) {
          expect(winner.remainder > 0n).toBe(true);
          for (const loser of rows.filter((row) => !row.extra)) {
            const beats =
              winner.remainder > loser.remainder ||
              (winner.remainder === loser.remainder && winner.account < loser.account);
            expect(beats).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('then the result is listed in account id order whatever the order of the weights', () => {
    fc.assert(
      fc.property(totalArbitrary, weightsArbitrary, (totalMinor, weights) => {
        const reversed = new Map([...weights].reverse());
        const amounts = [...apportionLargestRemainder(totalMinor, weights)];
        expect([...apportionLargestRemainder(totalMinor, reversed)]).toEqual(amounts);
        expect(amounts.map(([account]) => account)).toEqual([...weights.keys()].sort());
      }),
      { numRuns: 200 },
    );
  });
});

describe('equal weights', () => {
  it('given 10 units over three equal weights, then the smallest account id gets the leftover unit', () => {
    const amounts = apportionLargestRemainder(
      10n,
      new Map([
        ['c', 1n],
        ['a', 1n],
        ['b', 1n],
      ]),
    );
    expect([...amounts]).toEqual([
      ['a', 4n],
      ['b', 3n],
      ['c', 3n],
    ]);
  });

  it('given account ids differing in case, then ties follow UTF-16 order ("Z" before "a"), not the locale', () => {
    const amounts = apportionLargestRemainder(
      1n,
      new Map([
        ['a', 1n],
        ['Z', 1n],
      ]),
    );
    expect([...amounts]).toEqual([
      ['Z', 1n],
      ['a', 0n],
    ]);
  });
});

describe('weights that cannot be apportioned', () => {
  it('given weights that sum to zero, then it fails as a programmer error', () => {
    expect(() => apportionLargestRemainder(5n, new Map([['a', 0n]]))).toThrow(AttributionAssertionError);
  });

  it('given a negative total, then it fails as a programmer error', () => {
    expect(() => apportionLargestRemainder(-1n, new Map([['a', 1n]]))).toThrow(AttributionAssertionError);
  });
});
