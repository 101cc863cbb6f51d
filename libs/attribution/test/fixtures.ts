// Builders, generators and an independent reference implementation shared by the attribution specs.
import fc from 'fast-check';
import {
  entityKey,
  visibleAsOf,
  FEE_MINOR_MAX,
  type Attribution,
  type AttributionInput,
  type ContributionState,
  type ContributionStatus,
  type DatanetState,
  type EntityVersion,
  type Posting,
} from '@tributary/attribution';

export const protocolId = 'tributary';

/** A small valid input: model m-1 (split 10/70/20) on datanet dn-1 (owner carol, curator 10%). */
export function anInput(overrides: Partial<AttributionInput> = {}): AttributionInput {
  return {
    inference: {
      inferenceId: 'inf-1',
      modelId: 'm-1',
      consumerId: 'bob',
      asset: 'USDC',
      feeMinor: 1000n,
      attributions: [{ contributionId: 'c-1', scorePpm: 1_000_000 }],
      method: 'influence-function',
    },
    model: {
      modelId: 'm-1',
      owner: 'alice',
      datanetIds: ['dn-1'],
      split: { protocolBps: 1000, modelBps: 7000, dataBps: 2000 },
    },
    datanets: [{ datanetId: 'dn-1', owner: 'carol', curatorShareBps: 1000 }],
    contributions: [accepted('c-1', 'dn-1', 'dave')],
    protocolId,
    ...overrides,
  };
}

export function accepted(contributionId: string, datanetId: string, contributor: string): ContributionState {
  return { contributionId, datanetId, contributor, status: 'ACCEPTED', revoked: false };
}

/** Credits as a plain record, for readable `toEqual` in example specs. */
export function creditsOf(postings: readonly Posting[]): Record<string, bigint> {
  return Object.fromEntries(postings.slice(1).map((posting) => [posting.account, posting.amountMinor]));
}

// ---------- generators ----------

const feeMinorArbitrary = fc.oneof(
  fc.bigInt({ min: 0n, max: 100n }),
  fc.bigInt({ min: 0n, max: 2n ** 53n + 10n }),
  fc.bigInt({ min: 2n ** 53n, max: FEE_MINOR_MAX }),
  fc.constantFrom(0n, 1n, 2n, 2n ** 53n, 2n ** 53n + 1n, FEE_MINOR_MAX),
);

/** Edges (0 and 10_000) are where off-by-one bugs live, so they are drawn often. */
const bpsArbitrary = fc.oneof(fc.constantFrom(0, 1, 5000, 9999, 10_000), fc.integer({ min: 0, max: 10_000 }));

const splitArbitrary = fc
  .tuple(bpsArbitrary, bpsArbitrary)
  .map(([first, second]) => [Math.min(first, second), Math.max(first, second)] as const)
  .map(([low, high]) => ({ protocolBps: low, modelBps: high - low, dataBps: 10_000 - high }));

const scorePpmArbitrary = fc.oneof(fc.constantFrom(0, 1, 1_000_000), fc.integer({ min: 0, max: 1_000_000 }));

// Small id pools make collisions (same contributor twice, same owner of two datanets, duplicates) common.
const datanetIdPool = ['d0', 'd1', 'd2', 'd3'];
const ownerArbitrary = fc.constantFrom('o0', 'o1', 'o2');
const contributorArbitrary = fc.constantFrom('u0', 'u1', 'u2', 'u3', 'u4');
// Most contributions are accepted and live, so most generated inferences credit contributors; the
// rarer states still appear in a good share of runs.
const statusArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.constant<ContributionStatus>('ACCEPTED') },
  { weight: 1, arbitrary: fc.constantFrom<ContributionStatus>('SUBMITTED', 'REJECTED') },
);
const revokedArbitrary = fc.oneof(
  { weight: 8, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);

const datanetsArbitrary = fc.uniqueArray(
  fc.record({ datanetId: fc.constantFrom(...datanetIdPool), owner: ownerArbitrary, curatorShareBps: bpsArbitrary }),
  { selector: (datanet: DatanetState) => datanet.datanetId, maxLength: datanetIdPool.length },
);

/** Contributions mostly in the model's datanets, sometimes in another one. */
function contributionsArbitrary(modelDatanetIds: readonly string[]): fc.Arbitrary<ContributionState[]> {
  const elsewhere = fc.constantFrom(...datanetIdPool, 'd-elsewhere');
  const datanetId =
    modelDatanetIds.length > 0
      ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...modelDatanetIds) }, { weight: 1, arbitrary: elsewhere })
      : elsewhere;
  const contribution = fc.record({
    contributionId: fc.integer({ min: 0, max: 14 }).map((index) => `c${index}`),
    datanetId,
    contributor: contributorArbitrary,
    status: statusArbitrary,
    revoked: revokedArbitrary,
  });
  return fc.uniqueArray(contribution, { selector: (state) => state.contributionId, maxLength: 12 });
}

/** Attributions mostly naming submitted contributions, sometimes unknown ones or the same one twice. */
function attributionsArbitrary(contributions: readonly ContributionState[]): fc.Arbitrary<Attribution[]> {
  const unknown = fc.constantFrom('c15', 'c16', 'c17');
  const contributionId =
    contributions.length > 0
      ? fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(...contributions.map((state) => state.contributionId)) },
          { weight: 1, arbitrary: unknown },
        )
      : unknown;
  const distinct = fc.uniqueArray(fc.record({ contributionId, scorePpm: scorePpmArbitrary }), {
    selector: (attribution) => attribution.contributionId,
    maxLength: 15,
  });
  // Now and then one contribution is listed a second time, with its own score.
  return fc.tuple(distinct, fc.nat(), scorePpmArbitrary, fc.nat({ max: 4 })).map(([list, pick, scorePpm, chance]) => {
    const repeated = list[pick % Math.max(list.length, 1)];
    return chance === 0 && repeated !== undefined
      ? [...list, { contributionId: repeated.contributionId, scorePpm }]
      : list;
  });
}

/** Any valid input: every combination of statuses, datanets, duplicates and fallbacks. */
export const inputArbitrary: fc.Arbitrary<AttributionInput> = fc
  .record({
    feeMinor: feeMinorArbitrary,
    split: splitArbitrary,
    datanets: datanetsArbitrary,
    modelDatanetPick: fc.array(
      fc.nat({ max: 3 }).map((draw) => draw > 0),
      {
        minLength: datanetIdPool.length,
        maxLength: datanetIdPool.length,
      },
    ),
  })
  .chain(({ feeMinor, split, datanets, modelDatanetPick }) => {
    const datanetIds = datanets
      .filter((_, index) => modelDatanetPick[index] === true)
      .map((datanet) => datanet.datanetId);
    return contributionsArbitrary(datanetIds).chain((contributions) =>
      attributionsArbitrary(contributions).map((attributions) =>
        anInput({
          inference: { ...anInput().inference, feeMinor, attributions },
          model: { modelId: 'm-1', owner: 'alice', datanetIds, split },
          datanets,
          contributions,
        }),
      ),
    );
  });

/**
 * A model with one or two datanets and `count` accepted contributions from distinct contributors,
 * built from a seed with a small linear congruential generator: fast-check generating ten thousand
 * records per run would dominate the suite's time.
 */
export function manyContributorsInput(count: number, seed: number, feeMinor: bigint): AttributionInput {
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state;
  };
  const contributions: ContributionState[] = [];
  const attributions = [];
  for (let index = 0; index < count; index += 1) {
    const contributionId = `c${index}`;
    contributions.push(accepted(contributionId, index % 2 === 0 ? 'dn-1' : 'dn-2', `u${index}`));
    attributions.push({ contributionId, scorePpm: next() % 1_000_001 });
  }
  return anInput({
    inference: { ...anInput().inference, feeMinor, attributions },
    model: {
      modelId: 'm-1',
      owner: 'alice',
      datanetIds: ['dn-1', 'dn-2'],
      split: { protocolBps: 500, modelBps: 4500, dataBps: 5000 },
    },
    datanets: [
      { datanetId: 'dn-1', owner: 'carol', curatorShareBps: next() % 10_001 },
      { datanetId: 'dn-2', owner: 'erin', curatorShareBps: next() % 10_001 },
    ],
    contributions,
  });
}

// ---------- reference implementation ----------

/** An exact non-negative rational. */
interface Ratio {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

function gcd(left: bigint, right: bigint): bigint {
  let [a, b] = [left, right];
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function ratio(numerator: bigint, denominator: bigint): Ratio {
  const divisor = gcd(numerator, denominator) || 1n;
  return { numerator: numerator / divisor, denominator: denominator / divisor };
}

function plus(left: Ratio, right: Ratio): Ratio {
  return ratio(
    left.numerator * right.denominator + right.numerator * left.denominator,
    left.denominator * right.denominator,
  );
}

function times(left: Ratio, right: Ratio): Ratio {
  return ratio(left.numerator * right.numerator, left.denominator * right.denominator);
}

/**
 * The split rules read literally from docs/design.md, written top-down with exact fractions (fee →
 * shares → datanet portions → contributors) instead of the library's flat weights, so the two
 * implementations can check each other.
 */
export function referenceShares(input: AttributionInput): Map<string, Ratio> {
  const { inference, model } = input;
  const fee = ratio(inference.feeMinor, 1n);
  const bps = (value: number): Ratio => ratio(BigInt(value), 10_000n);
  const shares = new Map<string, Ratio>();
  const credit = (account: string, share: Ratio): void => {
    shares.set(account, plus(shares.get(account) ?? ratio(0n, 1n), share));
  };
  credit(`protocol:${input.protocolId}`, times(fee, bps(model.split.protocolBps)));
  credit(`model-owner:${model.owner}`, times(fee, bps(model.split.modelBps)));
  const dataShare = times(fee, bps(model.split.dataBps));
  const counted = referenceCounted(input);
  const datanetOf = (id: string): DatanetState => input.datanets.find((datanet) => datanet.datanetId === id)!;
  if (counted.length > 0) {
    const scoreTotal = counted.reduce((total, item) => total + BigInt(item.scorePpm), 0n);
    for (const datanetId of new Set(counted.map((item) => item.datanetId))) {
      const members = counted.filter((item) => item.datanetId === datanetId);
      const datanetScore = members.reduce((total, item) => total + BigInt(item.scorePpm), 0n);
      const portion = times(dataShare, ratio(datanetScore, scoreTotal));
      const datanet = datanetOf(datanetId);
      credit(`datanet-owner:${datanet.owner}`, times(portion, bps(datanet.curatorShareBps)));
      const contributorsPortion = times(portion, bps(10_000 - datanet.curatorShareBps));
      for (const item of members) {
        credit(
          `contributor:${item.contributor}`,
          times(contributorsPortion, ratio(BigInt(item.scorePpm), datanetScore)),
        );
      }
    }
  } else if (model.datanetIds.length > 0) {
    for (const datanetId of model.datanetIds) {
      credit(
        `datanet-owner:${datanetOf(datanetId).owner}`,
        times(dataShare, ratio(1n, BigInt(model.datanetIds.length))),
      );
    }
  } else {
    credit(`protocol:${input.protocolId}`, dataShare);
  }
  return shares;
}

function referenceCounted(input: AttributionInput): { scorePpm: number; datanetId: string; contributor: string }[] {
  const occurrences = new Map<string, number>();
  for (const { contributionId } of input.inference.attributions) {
    occurrences.set(contributionId, (occurrences.get(contributionId) ?? 0) + 1);
  }
  const states = new Map(input.contributions.map((state) => [state.contributionId, state]));
  return input.inference.attributions.flatMap((attribution) => {
    const state = states.get(attribution.contributionId);
    const counts =
      occurrences.get(attribution.contributionId) === 1 &&
      state !== undefined &&
      input.model.datanetIds.includes(state.datanetId) &&
      state.status === 'ACCEPTED' &&
      !state.revoked &&
      attribution.scorePpm > 0;
    return counts && state
      ? [{ scorePpm: attribution.scorePpm, datanetId: state.datanetId, contributor: state.contributor }]
      : [];
  });
}

/** Hamilton's method over exact shares, by the textbook: floors, then one unit per largest fraction. */
export function referencePostings(input: AttributionInput): Posting[] {
  const { asset, feeMinor, consumerId } = input.inference;
  const rows = [...referenceShares(input)].map(([account, share]) => {
    const floorMinor = share.numerator / share.denominator;
    return {
      account,
      floorMinor,
      fraction: ratio(share.numerator - floorMinor * share.denominator, share.denominator),
    };
  });
  rows.sort((left, right) => {
    const difference =
      right.fraction.numerator * left.fraction.denominator - left.fraction.numerator * right.fraction.denominator;
    if (difference !== 0n) return difference > 0n ? 1 : -1;
    return left.account < right.account ? -1 : 1;
  });
  let leftoverMinor = rows.reduce((left, row) => left - row.floorMinor, feeMinor);
  const credits = rows.map((row) => {
    const extraMinor = leftoverMinor > 0n ? 1n : 0n;
    leftoverMinor -= extraMinor;
    return { account: row.account, asset, amountMinor: row.floorMinor + extraMinor };
  });
  const sorted = credits
    .filter((posting) => posting.amountMinor > 0n)
    .sort((left, right) => (left.account < right.account ? -1 : 1));
  return [{ account: `consumer:${consumerId}`, asset, amountMinor: -feeMinor }, ...sorted];
}

/** The state of each entity visible as of asOfMs among these versions (visibleAsOf per entity), by entity key. */
export function visibleStates(versions: readonly EntityVersion[], asOfMs: number): Map<string, EntityVersion['state']> {
  const byKey = new Map<string, EntityVersion[]>();
  for (const version of versions) {
    const key = entityKey(version.entity, version.id);
    byKey.set(key, [...(byKey.get(key) ?? []), version]);
  }
  const states = new Map<string, EntityVersion['state']>();
  for (const [key, candidates] of byKey) {
    const visible = visibleAsOf(candidates, asOfMs);
    if (visible !== null) states.set(key, visible.state);
  }
  return states;
}
