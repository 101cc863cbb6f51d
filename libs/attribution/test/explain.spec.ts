// Proves that explain() turns a decision alone into readable lines naming the fee, the split, every credit with its reason and every rejection, by exact examples and by a fast-check property that it is pure and complete.
import fc from 'fast-check';
import { decideAttribution, explain } from '@tributary/attribution';
import { accepted, anInput, inputArbitrary } from './fixtures';

describe('a decision that credits two contributors and rejects a revoked one', () => {
  const decision = decideAttribution(
    anInput({
      inference: {
        ...anInput().inference,
        attributions: [
          { contributionId: 'c-1', scorePpm: 750_000 },
          { contributionId: 'c-2', scorePpm: 250_000 },
          { contributionId: 'c-3', scorePpm: 100_000 },
        ],
      },
      contributions: [
        accepted('c-1', 'dn-1', 'dave'),
        accepted('c-2', 'dn-1', 'erin'),
        { ...accepted('c-3', 'dn-1', 'finn'), revoked: true },
      ],
    }),
  );

  it('when explained, then each line says who pays, how the fee splits, who receives what and what did not count', () => {
    expect(explain(decision)).toEqual([
      'Inference inf-1 (model m-1, method influence-function) was attributed by policy v1.',
      'Fee: consumer:bob pays 1000 minor units of USDC.',
      'Split: protocol 10.00%, model owner 70.00%, data 20.00%.',
      'Contributor contributor:dave receives 135 USDC for contributions c-1 (score 750000 ppm).',
      'Contributor contributor:erin receives 45 USDC for contributions c-2 (score 250000 ppm).',
      'Datanet owner datanet-owner:carol receives 20 USDC (curator share of datanets dn-1 at 10.00%).',
      'Model owner model-owner:alice receives 700 USDC (model share).',
      'Protocol protocol:tributary receives 100 USDC (protocol share).',
      'Contribution c-3 did not count (REVOKED): its contributor had revoked it.',
    ]);
  });
});

describe('a decision that used a fallback', () => {
  it('given no datanet on the model, when explained, then it says the data share went to the protocol', () => {
    const lines = explain(decideAttribution(anInput({ model: { ...anInput().model, datanetIds: [] } })));
    expect(lines).toContain(
      'No contribution counted and the model names no datanet, so the data share went to the protocol.',
    );
    expect(lines).toContain('Protocol protocol:tributary receives 300 USDC (protocol share and data share).');
    expect(lines).toContain(
      'Contribution c-1 did not count (OUTSIDE_MODEL_DATANETS): it belongs to a datanet the model was not trained on.',
    );
  });

  it("given no counted attribution, when explained, then the datanet owner's line names the fallback", () => {
    const lines = explain(decideAttribution(anInput({ inference: { ...anInput().inference, attributions: [] } })));
    expect(lines).toContain(
      'Datanet owner datanet-owner:carol receives 200 USDC (fallback part of the data share for datanets dn-1).',
    );
  });
});

describe('a decision whose fee is too small to reach a contributor', () => {
  it('given a fee of 1, when explained, then the unpaid contributor is named with the reason', () => {
    const lines = explain(decideAttribution(anInput({ inference: { ...anInput().inference, feeMinor: 1n } })));
    expect(lines).toContain(
      'Contributor contributor:dave receives nothing: its exact share for contributions c-1 (score 1000000 ppm) is below one minor unit.',
    );
  });
});

describe('any decision', () => {
  it('then explain is pure and names every credited account and every rejected contribution', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const decision = decideAttribution(input);
        const copy = structuredClone(decision);
        const lines = explain(decision);
        expect(explain(decision)).toEqual(lines);
        expect(decision).toEqual(copy);
        const text = lines.join('\n');
        for (const posting of decision.postings) expect(text).toContain(posting.account);
        for (const rejection of decision.rejected)
          expect(text).toContain(`Contribution ${rejection.contributionId} did not count (${rejection.reason})`);
      }),
      { numRuns: 200 },
    );
  });
});
