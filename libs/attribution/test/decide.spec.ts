// Specifies policy v1 by worked examples: given model, datanet and contribution states, when one inference is decided, then exactly these postings, rejections and fallback.
import { FEE_MINOR_MAX, decideAttribution, type AttributionInput } from '@tributary/attribution';
import { accepted, anInput, creditsOf } from './fixtures';

function inferenceWith(
  feeMinor: bigint,
  attributions: AttributionInput['inference']['attributions'],
): AttributionInput['inference'] {
  return { ...anInput().inference, feeMinor, attributions };
}

describe('a model with split 10/70/20 on one datanet curated at 10%', () => {
  const contributions = [
    accepted('c-1', 'dn-1', 'dave'),
    accepted('c-2', 'dn-1', 'erin'),
    accepted('c-3', 'dn-1', 'dave'),
  ];

  it('given two accepted contributions scored 3:1, when an inference pays 1000, then each party gets its exact share', () => {
    const decision = decideAttribution(
      anInput({
        inference: inferenceWith(1000n, [
          { contributionId: 'c-1', scorePpm: 750_000 },
          { contributionId: 'c-2', scorePpm: 250_000 },
        ]),
        contributions,
      }),
    );
    expect(decision.postings).toEqual([
      { account: 'consumer:bob', asset: 'USDC', amountMinor: -1000n },
      { account: 'contributor:dave', asset: 'USDC', amountMinor: 135n },
      { account: 'contributor:erin', asset: 'USDC', amountMinor: 45n },
      { account: 'datanet-owner:carol', asset: 'USDC', amountMinor: 20n },
      { account: 'model-owner:alice', asset: 'USDC', amountMinor: 700n },
      { account: 'protocol:tributary', asset: 'USDC', amountMinor: 100n },
    ]);
    expect(decision).toMatchObject({ inferenceId: 'inf-1', policyVersion: 1, rejected: [], fallback: 'NONE' });
  });

  it('given one contributor with two contributions, when an inference pays 1000, then that contributor gets one merged posting', () => {
    const decision = decideAttribution(
      anInput({
        inference: inferenceWith(1000n, [
          { contributionId: 'c-1', scorePpm: 500_000 },
          { contributionId: 'c-3', scorePpm: 250_000 },
          { contributionId: 'c-2', scorePpm: 250_000 },
        ]),
        contributions,
      }),
    );
    expect(creditsOf(decision.postings)).toMatchObject({ 'contributor:dave': 135n, 'contributor:erin': 45n });
    expect(decision.postings.filter((posting) => posting.account === 'contributor:dave')).toHaveLength(1);
  });

  it('given one contribution revoked, when an inference pays 1000, then it is rejected and does not dilute the others', () => {
    const decision = decideAttribution(
      anInput({
        inference: inferenceWith(1000n, [
          { contributionId: 'c-1', scorePpm: 750_000 },
          { contributionId: 'c-2', scorePpm: 250_000 },
        ]),
        contributions: [accepted('c-1', 'dn-1', 'dave'), { ...accepted('c-2', 'dn-1', 'erin'), revoked: true }],
      }),
    );
    expect(creditsOf(decision.postings)).toEqual({
      'contributor:dave': 180n,
      'datanet-owner:carol': 20n,
      'model-owner:alice': 700n,
      'protocol:tributary': 100n,
    });
    expect(decision.rejected).toEqual([{ contributionId: 'c-2', reason: 'REVOKED' }]);
  });

  it('given no attribution counts, when an inference pays 1000, then the data share goes to the datanet owner', () => {
    const decision = decideAttribution(
      anInput({ inference: inferenceWith(1000n, [{ contributionId: 'c-9', scorePpm: 1 }]) }),
    );
    expect(creditsOf(decision.postings)).toEqual({
      'datanet-owner:carol': 200n,
      'model-owner:alice': 700n,
      'protocol:tributary': 100n,
    });
    expect(decision.fallback).toBe('DATA_SHARE_TO_DATANET_OWNERS');
    expect(decision.rejected).toEqual([{ contributionId: 'c-9', reason: 'UNKNOWN_CONTRIBUTION' }]);
  });

  it('given a fee of 1 minor unit, when decided, then the single unit goes to the largest fraction (the model owner, 0.7)', () => {
    const decision = decideAttribution(anInput({ inference: inferenceWith(1n, anInput().inference.attributions) }));
    expect(decision.postings).toEqual([
      { account: 'consumer:bob', asset: 'USDC', amountMinor: -1n },
      { account: 'model-owner:alice', asset: 'USDC', amountMinor: 1n },
    ]);
  });

  it('given a fee of 2^63 - 1 minor units, when decided, then every share is exact to the unit and they sum to the fee', () => {
    const decision = decideAttribution(
      anInput({ inference: inferenceWith(FEE_MINOR_MAX, anInput().inference.attributions) }),
    );
    // Exact quotas: protocol …580.7, model owner …064.9, curator …516.14, contributor …645.26; two units left.
    expect(creditsOf(decision.postings)).toEqual({
      'contributor:dave': 1_660_206_966_633_859_645n,
      'datanet-owner:carol': 184_467_440_737_095_516n,
      'model-owner:alice': 6_456_360_425_798_343_065n,
      'protocol:tributary': 922_337_203_685_477_581n,
    });
  });

  it('given a fee of zero, when decided, then the decision holds only the zero consumer debit', () => {
    const decision = decideAttribution(anInput({ inference: inferenceWith(0n, anInput().inference.attributions) }));
    expect(decision.postings).toEqual([{ account: 'consumer:bob', asset: 'USDC', amountMinor: 0n }]);
  });
});

describe('a model trained on two datanets with different curator shares', () => {
  const twoDatanets = {
    model: {
      modelId: 'm-1',
      owner: 'alice',
      datanetIds: ['dn-1', 'dn-2'],
      split: { protocolBps: 0, modelBps: 0, dataBps: 10_000 },
    },
    datanets: [
      { datanetId: 'dn-1', owner: 'carol', curatorShareBps: 1000 },
      { datanetId: 'dn-2', owner: 'frank', curatorShareBps: 5000 },
    ],
  };

  it("given contributions from both scored 6:4, when an inference pays 10000, then each curator takes its share of its own datanet's portion", () => {
    const decision = decideAttribution(
      anInput({
        ...twoDatanets,
        inference: inferenceWith(10_000n, [
          { contributionId: 'c-1', scorePpm: 600_000 },
          { contributionId: 'c-2', scorePpm: 400_000 },
        ]),
        contributions: [accepted('c-1', 'dn-1', 'dave'), accepted('c-2', 'dn-2', 'erin')],
      }),
    );
    expect(creditsOf(decision.postings)).toEqual({
      'contributor:dave': 5400n,
      'contributor:erin': 2000n,
      'datanet-owner:carol': 600n,
      'datanet-owner:frank': 2000n,
    });
  });

  it("given contributions from only one of them, when decided, then the other datanet's owner gets nothing", () => {
    const decision = decideAttribution(
      anInput({
        ...twoDatanets,
        inference: inferenceWith(10_000n, [{ contributionId: 'c-1', scorePpm: 1 }]),
        contributions: [accepted('c-1', 'dn-1', 'dave')],
      }),
    );
    expect(creditsOf(decision.postings)).toEqual({ 'contributor:dave': 9000n, 'datanet-owner:carol': 1000n });
  });

  it("given no attribution counts, when an inference pays 1000, then each datanet's owner gets an equal part", () => {
    const decision = decideAttribution(anInput({ ...twoDatanets, inference: inferenceWith(1000n, []) }));
    expect(creditsOf(decision.postings)).toEqual({ 'datanet-owner:carol': 500n, 'datanet-owner:frank': 500n });
    expect(decision.fallback).toBe('DATA_SHARE_TO_DATANET_OWNERS');
  });

  it('given one owner of both datanets and no attribution, when decided, then that owner gets both parts in one posting', () => {
    const sameOwner = twoDatanets.datanets.map((datanet) => ({ ...datanet, owner: 'carol' }));
    const decision = decideAttribution(
      anInput({ ...twoDatanets, datanets: sameOwner, inference: inferenceWith(1000n, []) }),
    );
    expect(creditsOf(decision.postings)).toEqual({ 'datanet-owner:carol': 1000n });
  });
});

describe('a model on three datanets whose fallback parts do not divide evenly', () => {
  it('given a fee of 100 (data share 20, a third each), when decided, then the two leftover units go to the smallest owner ids', () => {
    const decision = decideAttribution(
      anInput({
        model: { ...anInput().model, datanetIds: ['dn-3', 'dn-1', 'dn-2'] },
        datanets: [
          { datanetId: 'dn-1', owner: 'zed', curatorShareBps: 0 },
          { datanetId: 'dn-2', owner: 'amy', curatorShareBps: 0 },
          { datanetId: 'dn-3', owner: 'kim', curatorShareBps: 0 },
        ],
        inference: inferenceWith(100n, []),
      }),
    );
    expect(creditsOf(decision.postings)).toEqual({
      'datanet-owner:amy': 7n,
      'datanet-owner:kim': 7n,
      'datanet-owner:zed': 6n,
      'model-owner:alice': 70n,
      'protocol:tributary': 10n,
    });
  });
});

describe('a model that names no datanet', () => {
  it('given an accepted contribution, when an inference pays 1000, then it is rejected as outside and the data share goes to the protocol', () => {
    const decision = decideAttribution(anInput({ model: { ...anInput().model, datanetIds: [] } }));
    expect(creditsOf(decision.postings)).toEqual({ 'model-owner:alice': 700n, 'protocol:tributary': 300n });
    expect(decision.rejected).toEqual([{ contributionId: 'c-1', reason: 'OUTSIDE_MODEL_DATANETS' }]);
    expect(decision.fallback).toBe('DATA_SHARE_TO_PROTOCOL');
  });
});

describe('three contributors with equal scores and no curator share', () => {
  it('given a fee of 10, when decided, then the leftover unit goes to the smallest account id, not the first listed', () => {
    const decision = decideAttribution(
      anInput({
        model: { ...anInput().model, split: { protocolBps: 0, modelBps: 0, dataBps: 10_000 } },
        datanets: [{ datanetId: 'dn-1', owner: 'carol', curatorShareBps: 0 }],
        contributions: [accepted('c-1', 'dn-1', 'c'), accepted('c-2', 'dn-1', 'b'), accepted('c-3', 'dn-1', 'a')],
        inference: inferenceWith(10n, [
          { contributionId: 'c-1', scorePpm: 5 },
          { contributionId: 'c-2', scorePpm: 5 },
          { contributionId: 'c-3', scorePpm: 5 },
        ]),
      }),
    );
    expect(creditsOf(decision.postings)).toEqual({ 'contributor:a': 4n, 'contributor:b': 3n, 'contributor:c': 3n });
  });
});

describe('attributions that do not count', () => {
  const states = [
    accepted('accepted', 'dn-1', 'dave'),
    { ...accepted('submitted', 'dn-1', 'dave'), status: 'SUBMITTED' as const },
    { ...accepted('rejected', 'dn-1', 'dave'), status: 'REJECTED' as const },
    { ...accepted('revoked', 'dn-1', 'dave'), revoked: true },
    { ...accepted('revoked-and-rejected', 'dn-1', 'dave'), status: 'REJECTED' as const, revoked: true },
    accepted('elsewhere', 'dn-other', 'dave'),
    { ...accepted('elsewhere-and-revoked', 'dn-other', 'dave'), revoked: true },
    { ...accepted('zero-and-submitted', 'dn-1', 'dave'), status: 'SUBMITTED' as const },
  ];

  it.each([
    ['accepted', 0, 'ZERO_SCORE'],
    ['submitted', 1, 'NOT_ACCEPTED'],
    ['rejected', 1, 'NOT_ACCEPTED'],
    ['revoked', 1, 'REVOKED'],
    ['revoked-and-rejected', 1, 'REVOKED'],
    ['elsewhere', 1, 'OUTSIDE_MODEL_DATANETS'],
    ['elsewhere-and-revoked', 1, 'OUTSIDE_MODEL_DATANETS'],
    ['zero-and-submitted', 0, 'NOT_ACCEPTED'],
    ['never-submitted', 1, 'UNKNOWN_CONTRIBUTION'],
  ])('given contribution %s scored %p, when decided, then it is rejected as %s', (contributionId, scorePpm, reason) => {
    const decision = decideAttribution(
      anInput({ contributions: states, inference: inferenceWith(1000n, [{ contributionId, scorePpm }]) }),
    );
    expect(decision.rejected).toEqual([{ contributionId, reason }]);
    expect(decision.fallback).toBe('DATA_SHARE_TO_DATANET_OWNERS');
  });

  it('given a contribution listed twice, when decided, then both listings are rejected once as DUPLICATE, even if unknown', () => {
    const decision = decideAttribution(
      anInput({
        contributions: states,
        inference: inferenceWith(1000n, [
          { contributionId: 'accepted', scorePpm: 10 },
          { contributionId: 'never-submitted', scorePpm: 1 },
          { contributionId: 'accepted', scorePpm: 20 },
          { contributionId: 'never-submitted', scorePpm: 1 },
        ]),
      }),
    );
    expect(decision.rejected).toEqual([
      { contributionId: 'accepted', reason: 'DUPLICATE' },
      { contributionId: 'never-submitted', reason: 'DUPLICATE' },
    ]);
  });
});

describe("a decision's inputsSeen", () => {
  it("given extra states the policy cannot use, when decided, then inputsSeen keeps only the model's datanets and the attributed contributions, sorted", () => {
    const decision = decideAttribution(
      anInput({
        datanets: [{ datanetId: 'dn-unused', owner: 'x', curatorShareBps: 0 }, ...anInput().datanets],
        contributions: [accepted('c-unattributed', 'dn-1', 'x'), ...anInput().contributions],
      }),
    );
    expect(decision.inputsSeen.datanets.map((datanet) => datanet.datanetId)).toEqual(['dn-1']);
    expect(decision.inputsSeen.contributions.map((state) => state.contributionId)).toEqual(['c-1']);
    expect(decideAttribution(decision.inputsSeen)).toEqual(decision);
  });
});
