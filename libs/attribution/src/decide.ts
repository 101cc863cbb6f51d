import { accountId, compareIds } from './accounts';
import { apportionLargestRemainder } from './apportion';
import { contributionWeight } from './policy';
import { sortInPlace } from './sort';
import { AttributionInputError, assert } from './errors';
import { BPS_TOTAL } from './limits';
import { DATANET_TERMS_RULE, appliedSplit, termsBreachDetail, termsOf } from './terms';
import type {
  Attribution,
  AttributionDecision,
  AttributionInput,
  ContributionState,
  DatanetState,
  FallbackRule,
  Posting,
  Rejection,
  RejectionReason,
  RevenueSplit,
} from './types';
import { validateInput } from './validate';

/** An attribution that passed every check, joined with the state that placed it. */
interface CountedAttribution {
  readonly contributionId: string;
  readonly scorePpm: bigint;
  readonly contributor: string;
  readonly datanetId: string;
}

const bpsTotal = BigInt(BPS_TOTAL);

/**
 * Policies v1 and v2 (the input's `policy` says which): splits one paid inference's fee among the protocol, the model owner, the owners of
 * the datanets and the contributors (docs/design.md, "The split rules").
 *
 * Every account's exact share is a rational number of the fee; the shares are merged per account
 * first and then rounded together in one largest-remainder apportionment, so rounding happens once,
 * credits sum to the fee exactly, and the order of the attribution list cannot matter.
 *
 * Multi-datanet curator rule: the data share is first divided among datanets in proportion to the
 * summed scores of the counted contributions from each datanet; each datanet's owner keeps that
 * datanet's curatorShareBps of its portion, and the datanet's contributors split the rest in
 * proportion to their scores. A datanet with no counted contribution gets nothing.
 *
 * The split: under v1 the model's registered split; under v2 the operator's protocol share, the model's
 * data share and the rest to the model owner (terms.ts, appliedSplit). Under either, the model must keep
 * the terms of each of its datanets as given in the input (the state as of the inference): a breach is
 * bad input (rule DATANET_TERMS) and no decision is made. Inputs recorded before terms existed carry
 * none, so v1 decisions recompute unchanged.
 *
 * Throws AttributionInputError for bad input; throws AttributionAssertionError only on a bug.
 */
export function decideAttribution(input: AttributionInput): AttributionDecision {
  validateInput(input);
  const split = appliedSplit(input.model, input.policy);
  const modelDatanetIds = new Set(input.model.datanetIds);
  requireTermsKept(input, split, modelDatanetIds);
  const { counted, rejected, listed } = classifyAttributions(input, modelDatanetIds);
  const { weights, fallback } =
    counted.length > 0
      ? { weights: countedWeights(input, split, counted), fallback: 'NONE' as const }
      : fallbackWeights(input, split);
  const amounts = apportionLargestRemainder(input.inference.feeMinor, weights);
  const decision: AttributionDecision = {
    inferenceId: input.inference.inferenceId,
    policyVersion: input.policy?.version ?? 1,
    split,
    postings: buildPostings(input, amounts),
    rejected,
    fallback,
    inputsSeen: canonicalInputs(input, listed, modelDatanetIds),
  };
  assertDecisionBalanced(decision);
  return decision;
}

/** Refuses a model that breaks the terms of any of its datanets (the states the input holds for them). */
function requireTermsKept(input: AttributionInput, split: RevenueSplit, modelDatanetIds: ReadonlySet<string>): void {
  const { model } = input;
  const datanets = input.datanets.filter((datanet) => modelDatanetIds.has(datanet.datanetId));
  const detail = termsBreachDetail({ modelId: model.modelId, owner: model.owner, dataBps: split.dataBps }, datanets);
  if (detail !== null) throw new AttributionInputError('model', DATANET_TERMS_RULE, detail);
}

/** The counted attributions, the rejected ones (sorted by contribution id), and every contribution id listed. */
function classifyAttributions(
  input: AttributionInput,
  modelDatanetIds: ReadonlySet<string>,
): {
  counted: CountedAttribution[];
  rejected: Rejection[];
  listed: ReadonlySet<string>;
} {
  const listed = new Set<string>();
  let listedTwice: Set<string> | null = null;
  for (const { contributionId } of input.inference.attributions) {
    if (listed.has(contributionId)) (listedTwice ??= new Set()).add(contributionId);
    else listed.add(contributionId);
  }
  const statesById = new Map<string, ContributionState>();
  for (const state of input.contributions) statesById.set(state.contributionId, state);
  const counted: CountedAttribution[] = [];
  const rejected = new Map<string, Rejection>();
  for (const attribution of input.inference.attributions) {
    const { contributionId } = attribution;
    const state = statesById.get(contributionId);
    const reason = rejectionReason(attribution, listedTwice?.has(contributionId) ?? false, state, modelDatanetIds);
    if (reason !== null) {
      rejected.set(contributionId, { contributionId, reason });
    } else if (state !== undefined) {
      const { contributor, datanetId } = state;
      counted.push({ contributionId, scorePpm: BigInt(attribution.scorePpm), contributor, datanetId });
    }
  }
  const rejectedSorted = sortInPlace([...rejected.values()], (left, right) =>
    compareIds(left.contributionId, right.contributionId),
  );
  return { counted, rejected: rejectedSorted, listed };
}

/**
 * The first rule an attribution breaks, or null when it counts. A contribution listed twice is
 * rejected in every occurrence: keeping either would make the result depend on list order.
 */
function rejectionReason(
  attribution: Attribution,
  listedTwice: boolean,
  state: ContributionState | undefined,
  modelDatanetIds: ReadonlySet<string>,
): RejectionReason | null {
  if (listedTwice) return 'DUPLICATE';
  if (state === undefined) return 'UNKNOWN_CONTRIBUTION';
  if (!modelDatanetIds.has(state.datanetId)) return 'OUTSIDE_MODEL_DATANETS';
  // Revocation is the contributor's own final word, so it is reported even over a failed review.
  if (state.revoked) return 'REVOKED';
  if (state.status !== 'ACCEPTED') return 'NOT_ACCEPTED';
  if (attribution.scorePpm === 0) return 'ZERO_SCORE';
  return null;
}

/**
 * Weights over the common denominator 10_000 × 10_000 × (sum of counted scores). With S that sum,
 * S_d the sum for datanet d and s_c a contribution's score:
 *   protocol: protocolBps × 10_000 × S          model owner: modelBps × 10_000 × S
 *   owner of d: dataBps × S_d × curatorBps_d     contributor of c in d: dataBps × s_c × (10_000 − curatorBps_d)
 */
function countedWeights(
  input: AttributionInput,
  split: RevenueSplit,
  counted: readonly CountedAttribution[],
): Map<string, bigint> {
  const { model, protocolId } = input;
  const scoreTotal = counted.reduce((total, attribution) => total + attribution.scorePpm, 0n);
  const dataBps = BigInt(split.dataBps);
  // Per datanet once: its owner's account and the two factors a score is multiplied by.
  const version = input.policy?.version ?? 1;
  const shares = new Map<
    string,
    { readonly ownerAccount: string; readonly ownerFactor: bigint; readonly contributorFactor: bigint }
  >();
  for (const datanet of input.datanets) {
    shares.set(datanet.datanetId, {
      ownerAccount: accountId('datanet-owner', datanet.owner),
      ownerFactor: dataBps * BigInt(datanet.curatorShareBps),
      // The policy's contribution weight per unit of score (policy.ts), so lineage splits credits the same way.
      contributorFactor: dataBps * contributionWeight(version, 1n, datanet.curatorShareBps),
    });
  }
  const weights = new Map<string, bigint>();
  addWeight(weights, accountId('protocol', protocolId), BigInt(split.protocolBps) * bpsTotal * scoreTotal);
  addWeight(weights, accountId('model-owner', model.owner), BigInt(split.modelBps) * bpsTotal * scoreTotal);
  for (const attribution of counted) {
    const share = shares.get(attribution.datanetId);
    assert(share !== undefined, () => `counted contribution ${attribution.contributionId} has no datanet state`);
    addWeight(weights, share.ownerAccount, attribution.scorePpm * share.ownerFactor);
    addWeight(
      weights,
      accountId('contributor', attribution.contributor),
      attribution.scorePpm * share.contributorFactor,
    );
  }
  assertWeightTotal(weights, bpsTotal * bpsTotal * scoreTotal);
  return weights;
}

/**
 * With no counted attribution the data share goes to the owners of the model's datanets, one equal
 * part per datanet (an owner of two of them gets two parts), or to the protocol when the model
 * names no datanet. Weights are over the denominator 10_000 × (number of parts).
 */
function fallbackWeights(
  input: AttributionInput,
  split: RevenueSplit,
): { weights: Map<string, bigint>; fallback: FallbackRule } {
  const { model, protocolId } = input;
  const protocolAccount = accountId('protocol', protocolId);
  const modelOwnerAccount = accountId('model-owner', model.owner);
  const { protocolBps, modelBps, dataBps } = split;
  const weights = new Map<string, bigint>();
  if (model.datanetIds.length === 0) {
    addWeight(weights, protocolAccount, BigInt(protocolBps + dataBps));
    addWeight(weights, modelOwnerAccount, BigInt(modelBps));
    assertWeightTotal(weights, bpsTotal);
    return { weights, fallback: 'DATA_SHARE_TO_PROTOCOL' };
  }
  const partCount = BigInt(model.datanetIds.length);
  const datanetsById = new Map(input.datanets.map((datanet) => [datanet.datanetId, datanet]));
  addWeight(weights, protocolAccount, BigInt(protocolBps) * partCount);
  addWeight(weights, modelOwnerAccount, BigInt(modelBps) * partCount);
  for (const datanetId of model.datanetIds) {
    const datanet = datanetsById.get(datanetId);
    assert(datanet !== undefined, () => `model datanet ${datanetId} has no state after validation`);
    addWeight(weights, accountId('datanet-owner', datanet.owner), BigInt(dataBps));
  }
  assertWeightTotal(weights, bpsTotal * partCount);
  return { weights, fallback: 'DATA_SHARE_TO_DATANET_OWNERS' };
}

function addWeight(weights: Map<string, bigint>, account: string, weight: bigint): void {
  weights.set(account, (weights.get(account) ?? 0n) + weight);
}

function assertWeightTotal(weights: ReadonlyMap<string, bigint>, expected: bigint): void {
  let total = 0n;
  for (const weight of weights.values()) total += weight;
  assert(total === expected, () => `weights sum to ${total}, expected ${expected}`);
}

/** The consumer's debit first; then one credit per account, in account id order, zero credits left out. */
function buildPostings(input: AttributionInput, amounts: ReadonlyMap<string, bigint>): Posting[] {
  const { asset, consumerId, feeMinor } = input.inference;
  const debit: Posting = { account: accountId('consumer', consumerId), asset, amountMinor: -feeMinor };
  const postings: Posting[] = [debit];
  amounts.forEach((amountMinor, account) => {
    // A share that rounds to zero would be a ledger entry that moves nothing; lineage stays in inputsSeen.
    if (amountMinor > 0n) postings.push({ account, asset, amountMinor });
  });
  return postings;
}

/**
 * The input in canonical form: lists sorted, fields copied (nothing the caller passed by accident
 * travels along), and only the states the policy could read. Sorting makes equal inputs produce
 * equal decisions whatever the order they arrived in.
 */
function canonicalInputs(
  input: AttributionInput,
  attributedIds: ReadonlySet<string>,
  modelDatanetIds: ReadonlySet<string>,
): AttributionInput {
  const { inference, model } = input;
  const attributions = sortInPlace(
    inference.attributions.map(({ contributionId, scorePpm }) => ({ contributionId, scorePpm })),
    (left, right) => compareIds(left.contributionId, right.contributionId) || left.scorePpm - right.scorePpm,
  );
  return {
    inference: { ...pickInference(input), attributions },
    model: {
      modelId: model.modelId,
      owner: model.owner,
      datanetIds: sortInPlace([...model.datanetIds], compareIds),
      split: { protocolBps: model.split.protocolBps, modelBps: model.split.modelBps, dataBps: model.split.dataBps },
    },
    datanets: sortInPlace(
      input.datanets.filter((datanet) => modelDatanetIds.has(datanet.datanetId)).map(copyDatanet),
      (left, right) => compareIds(left.datanetId, right.datanetId),
    ),
    contributions: sortInPlace(
      input.contributions.filter((state) => attributedIds.has(state.contributionId)).map(copyContribution),
      (left, right) => compareIds(left.contributionId, right.contributionId),
    ),
    protocolId: input.protocolId,
    ...(input.policy === undefined
      ? {}
      : { policy: { version: input.policy.version, protocolBps: input.policy.protocolBps } }),
  };
}

function pickInference(input: AttributionInput): Omit<AttributionInput['inference'], 'attributions'> {
  const { inferenceId, modelId, consumerId, asset, feeMinor, method } = input.inference;
  return { inferenceId, modelId, consumerId, asset, feeMinor, method };
}

/** Terms are always written out (defaults filled in), so a recorded input names the terms it was checked against. */
function copyDatanet(datanet: DatanetState): DatanetState {
  const { minDataBps, allowedModelOwners } = termsOf(datanet);
  const { datanetId, owner, curatorShareBps } = datanet;
  return {
    datanetId,
    owner,
    curatorShareBps,
    minDataBps,
    allowedModelOwners: allowedModelOwners === null ? null : [...allowedModelOwners],
  };
}

function copyContribution({
  contributionId,
  datanetId,
  contributor,
  status,
  revoked,
}: ContributionState): ContributionState {
  return { contributionId, datanetId, contributor, status, revoked };
}

/** The invariants every decision must keep; a failure here is a bug in this file, never bad input. */
function assertDecisionBalanced(decision: AttributionDecision): void {
  const { feeMinor, consumerId, asset } = decision.inputsSeen.inference;
  const { postings } = decision;
  const debit = postings[0];
  assert(debit !== undefined, 'a decision has at least the consumer debit');
  assert(debit.account === accountId('consumer', consumerId), 'the first posting is the consumer debit');
  assert(debit.amountMinor === -feeMinor, () => `the consumer debit ${debit.amountMinor} is not -${feeMinor}`);
  assert(debit.asset === asset, 'every posting is in the inference asset');
  let sumMinor = debit.amountMinor;
  for (let index = 1; index < postings.length; index += 1) {
    const credit = postings[index]!;
    assert(credit.amountMinor > 0n, () => `credit to ${credit.account} is not positive: ${credit.amountMinor}`);
    assert(credit.account !== debit.account, 'the consumer is never credited');
    assert(
      index === 1 || compareIds(postings[index - 1]!.account, credit.account) < 0,
      'credits sorted, one per account',
    );
    assert(credit.asset === asset, 'every posting is in the inference asset');
    sumMinor += credit.amountMinor;
  }
  assert(sumMinor === 0n, () => `postings sum to ${sumMinor}, not zero`);
}
