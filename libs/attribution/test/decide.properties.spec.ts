// Proves the split rules' arithmetic for any valid input by fast-check properties: balance, signs, order independence, determinism, replay from inputsSeen, and agreement with an independent exact-fraction reference.
import fc from 'fast-check';
import { ATTRIBUTIONS_MAX, FEE_MINOR_MAX, decideAttribution, type AttributionInput } from '@tributary/attribution';
import { inputArbitrary, manyContributorsInput, referencePostings } from './fixtures';

const numRuns = 300;

function sumMinor(input: AttributionInput): bigint {
  return decideAttribution(input).postings.reduce((sum, posting) => sum + posting.amountMinor, 0n);
}

/** The same input with every list in a different order. */
const reorderedArbitrary = inputArbitrary.chain((input) =>
  fc
    .tuple(
      fc.shuffledSubarray([...input.inference.attributions], { minLength: input.inference.attributions.length }),
      fc.shuffledSubarray([...input.contributions], { minLength: input.contributions.length }),
      fc.shuffledSubarray([...input.datanets], { minLength: input.datanets.length }),
      fc.shuffledSubarray([...input.model.datanetIds], { minLength: input.model.datanetIds.length }),
    )
    .map(([attributions, contributions, datanets, datanetIds]) => ({
      input,
      reordered: {
        ...input,
        inference: { ...input.inference, attributions },
        model: { ...input.model, datanetIds },
        contributions,
        datanets,
      },
    })),
);

describe('any valid input', () => {
  it('then the postings sum to zero', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => sumMinor(input) === 0n),
      { numRuns },
    );
  });

  it('then the first posting debits the consumer the fee and every other amount is a positive integer', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const [debit, ...credits] = decideAttribution(input).postings;
        expect(debit).toEqual({ account: 'consumer:bob', asset: 'USDC', amountMinor: -input.inference.feeMinor });
        for (const credit of credits) {
          expect(typeof credit.amountMinor).toBe('bigint');
          expect(credit.amountMinor > 0n).toBe(true);
        }
      }),
      { numRuns },
    );
  });

  it('then every credit is the largest-remainder rounding of the exact share the rules give', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        expect(decideAttribution(input).postings).toEqual(referencePostings(input));
      }),
      { numRuns },
    );
  });

  it('then the order of attributions, contributions and datanets does not change the decision', () => {
    fc.assert(
      fc.property(reorderedArbitrary, ({ input, reordered }) => {
        expect(decideAttribution(reordered)).toEqual(decideAttribution(input));
      }),
      { numRuns },
    );
  });

  it('then deciding it twice, or deciding a deep copy, gives the same decision', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const first = decideAttribution(input);
        expect(decideAttribution(input)).toEqual(first);
        expect(decideAttribution(structuredClone(input))).toEqual(first);
      }),
      { numRuns },
    );
  });

  it("then deciding the decision's inputsSeen reproduces the decision exactly", () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const decision = decideAttribution(input);
        expect(decideAttribution(decision.inputsSeen)).toEqual(decision);
      }),
      { numRuns },
    );
  });

  it('then every attributed contribution id is either counted or rejected once, never both', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const decision = decideAttribution(input);
        const rejectedIds = decision.rejected.map((rejection) => rejection.contributionId);
        expect(new Set(rejectedIds).size).toBe(rejectedIds.length);
        expect([...rejectedIds].sort()).toEqual(rejectedIds);
        for (const id of rejectedIds) {
          expect(input.inference.attributions.some((attribution) => attribution.contributionId === id)).toBe(true);
        }
        expect(decision.fallback === 'NONE').toBe(
          input.inference.attributions.some((attribution) => !rejectedIds.includes(attribution.contributionId)),
        );
      }),
      { numRuns },
    );
  });
});

describe('edge fees', () => {
  it.each([0n, 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 62n, FEE_MINOR_MAX])(
    'given a fee of %p minor units, then credits match the reference and balance the debit',
    (feeMinor) => {
      fc.assert(
        fc.property(inputArbitrary, (generated) => {
          const input = { ...generated, inference: { ...generated.inference, feeMinor } };
          expect(decideAttribution(input).postings).toEqual(referencePostings(input));
          expect(sumMinor(input)).toBe(0n);
        }),
        { numRuns: 50 },
      );
    },
  );
});

describe('ten thousand contributors (the attribution limit)', () => {
  // Each run decides 10,000 attributions and checks them against the fraction reference, so runs are few.
  const feeArbitrary = fc.oneof(
    fc.constantFrom(1n, 9_999n, 2n ** 53n, FEE_MINOR_MAX),
    fc.bigInt({ min: 0n, max: FEE_MINOR_MAX }),
  );

  it('then the decision balances, matches the reference and ignores list order', () => {
    fc.assert(
      fc.property(fc.nat(), feeArbitrary, (seed, feeMinor) => {
        const input = manyContributorsInput(ATTRIBUTIONS_MAX, seed, feeMinor);
        const decision = decideAttribution(input);
        expect(decision.postings.reduce((sum, posting) => sum + posting.amountMinor, 0n)).toBe(0n);
        expect(decision.postings).toEqual(referencePostings(input));
        const reversed = {
          ...input,
          inference: { ...input.inference, attributions: [...input.inference.attributions].reverse() },
        };
        expect(decideAttribution(reversed)).toEqual(decision);
      }),
      { numRuns: 3 },
    );
  });

  it('given a fee of one minor unit, then exactly one account is credited with it', () => {
    const decision = decideAttribution(manyContributorsInput(ATTRIBUTIONS_MAX, 7, 1n));
    expect(decision.postings).toHaveLength(2);
    expect(decision.postings[1]?.amountMinor).toBe(1n);
  });
});
