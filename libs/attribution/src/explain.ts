import { accountId, compareIds, parseAccount } from './accounts';
import { assertNever } from './errors';
import { rejectionLine } from './rejection-reasons';
import { termsOf } from './terms';
import type { Attribution, AttributionDecision, FallbackRule, Posting } from './types';

/**
 * Human-readable lines for one decision: the fee, the split, who got what and why, and every
 * contribution that did not count. It reads the decision alone (its inputsSeen carries the state),
 * so a statement can explain any ledger credit without looking anything else up.
 */
export function explain(decision: AttributionDecision): string[] {
  const { inference, model } = decision.inputsSeen;
  const [debit, ...credits] = decision.postings;
  const { protocolBps, modelBps, dataBps } = decision.split;
  const counted = countedByContributor(decision);
  return [
    `Inference ${decision.inferenceId} (model ${model.modelId}, method ${inference.method}) was attributed by policy v${decision.policyVersion}.`,
    `Fee: ${debit?.account ?? 'the consumer'} pays ${inference.feeMinor} minor units of ${inference.asset}.`,
    `Split: protocol ${percent(protocolBps)}, model owner ${percent(modelBps)}, data ${percent(dataBps)}.`,
    ...policyLines(decision),
    ...termsLines(decision),
    ...fallbackLines(decision.fallback),
    ...credits.map((credit) => creditLine(decision, counted, credit)),
    ...unpaidContributorLines(decision, counted),
    ...decision.rejected.map(({ contributionId, reason }) => rejectionLine(contributionId, reason)),
  ];
}

/** Under v2, where each part of the split came from. */
function policyLines(decision: AttributionDecision): string[] {
  const { policy } = decision.inputsSeen;
  if (policy === undefined) return [];
  const { protocolBps, modelBps, dataBps } = decision.split;
  return [
    `Policy v${policy.version}: the protocol's ${percent(protocolBps)} is the operator's policy, the data share ${percent(dataBps)} is the model's own, the model owner keeps the remaining ${percent(modelBps)}.`,
  ];
}

/** The terms of each of the model's datanets the decision was checked against (decisions made with terms, v2 on). */
function termsLines(decision: AttributionDecision): string[] {
  if (decision.policyVersion < 2) return [];
  const { model } = decision.inputsSeen;
  return decision.inputsSeen.datanets.map((datanet) => {
    const { minDataBps, allowedModelOwners } = termsOf(datanet);
    const owners =
      allowedModelOwners === null
        ? 'any model owner'
        : allowedModelOwners.length === 0
          ? 'no model owner'
          : `model owners ${allowedModelOwners.join(', ')}`;
    return `Terms of datanet ${datanet.datanetId} used: minimum data share ${percent(minDataBps)} (the model gives ${percent(decision.split.dataBps)}), open to ${owners} (the model's owner is ${model.owner}).`;
  });
}

function fallbackLines(fallback: FallbackRule): string[] {
  switch (fallback) {
    case 'NONE':
      return [];
    case 'DATA_SHARE_TO_DATANET_OWNERS':
      return [
        "No contribution counted, so the data share went to the owners of the model's datanets, one equal part per datanet.",
      ];
    case 'DATA_SHARE_TO_PROTOCOL':
      return ['No contribution counted and the model names no datanet, so the data share went to the protocol.'];
    default:
      return assertNever(fallback);
  }
}

function creditLine(decision: AttributionDecision, counted: CountedByContributor, credit: Posting): string {
  const amount = `${credit.amountMinor} ${credit.asset}`;
  const ref = parseAccount(credit.account);
  if (ref === null) return `${credit.account} receives ${amount}.`;
  switch (ref.role) {
    case 'protocol':
      return `Protocol ${credit.account} receives ${amount} (protocol share${dataShareToProtocol(decision)}).`;
    case 'model-owner':
      return `Model owner ${credit.account} receives ${amount} (model share).`;
    case 'datanet-owner':
      return `Datanet owner ${credit.account} receives ${amount} (${curatorText(decision, ref.ownerId)}).`;
    case 'contributor':
      return `Contributor ${credit.account} receives ${amount} for ${countedText(counted, ref.ownerId)}.`;
    case 'consumer':
      return `Consumer ${credit.account} receives ${amount}.`;
    case 'clearing':
    case 'settlement':
      return `${credit.account} receives ${amount}.`;
    default:
      return assertNever(ref.role);
  }
}

function dataShareToProtocol(decision: AttributionDecision): string {
  return decision.fallback === 'DATA_SHARE_TO_PROTOCOL' ? ' and data share' : '';
}

function curatorText(decision: AttributionDecision, ownerId: string): string {
  const owned = decision.inputsSeen.datanets.filter((datanet) => datanet.owner === ownerId);
  if (decision.fallback === 'DATA_SHARE_TO_DATANET_OWNERS') {
    return `fallback part of the data share for datanets ${owned.map((datanet) => datanet.datanetId).join(', ')}`;
  }
  const curated = owned.map((datanet) => `${datanet.datanetId} at ${percent(datanet.curatorShareBps)}`);
  return `curator share of datanets ${curated.join(', ')}`;
}

type CountedByContributor = ReadonlyMap<string, readonly Attribution[]>;

/** The attributions that counted (attributed, known, not rejected), grouped by contributor, built once. */
function countedByContributor(decision: AttributionDecision): CountedByContributor {
  const rejectedIds = new Set(decision.rejected.map((rejection) => rejection.contributionId));
  const statesById = new Map(decision.inputsSeen.contributions.map((state) => [state.contributionId, state]));
  const counted = new Map<string, Attribution[]>();
  for (const attribution of decision.inputsSeen.inference.attributions) {
    const state = statesById.get(attribution.contributionId);
    if (state === undefined || rejectedIds.has(attribution.contributionId)) continue;
    const listed = counted.get(state.contributor);
    if (listed === undefined) counted.set(state.contributor, [attribution]);
    else listed.push(attribution);
  }
  return counted;
}

function countedText(counted: CountedByContributor, contributorId: string): string {
  const listed = (counted.get(contributorId) ?? []).map(
    ({ contributionId, scorePpm }) => `${contributionId} (score ${scorePpm} ppm)`,
  );
  return `contributions ${listed.join(', ')}`;
}

/** Contributors who counted but whose exact share rounded to zero get no posting; say so. */
function unpaidContributorLines(decision: AttributionDecision, counted: CountedByContributor): string[] {
  const credited = new Set(decision.postings.map((posting) => posting.account));
  return [...counted.keys()]
    .sort(compareIds)
    .filter((contributorId) => !credited.has(accountId('contributor', contributorId)))
    .map(
      (contributorId) =>
        `Contributor ${accountId('contributor', contributorId)} receives nothing: its exact share for ${countedText(counted, contributorId)} is below one minor unit.`,
    );
}

/** Basis points as a percentage with two decimals, in integer arithmetic (1234 bps → "12.34%"). */
function percent(bps: number): string {
  return `${Math.floor(bps / 100)}.${String(bps % 100).padStart(2, '0')}%`;
}
