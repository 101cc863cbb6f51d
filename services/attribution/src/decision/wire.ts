import { createHash } from 'node:crypto';
import {
  ORDERING_RULE_TEXT,
  accountId,
  compareIds,
  decideAttribution,
  parseAccount,
  sortInPlace,
  termsOf,
  type AttributionDecision,
  type AttributionInput,
  type ContributionState,
  type InferenceFacts,
} from '@tributary/attribution';
import type { ContributionSeen, InferenceAttributed } from '@tributary/contracts';

const EVENT_ID_PREFIX = 'attributed:';
const EVENT_ID_LENGTH_MAX = 256;

/**
 * The decision's event id, derived from the inference id alone so a retried decision carries the same
 * id (the ledger applies an event id once). Ids too long for the prefix are hashed.
 */
export function decisionEventId(inferenceId: string): string {
  const plain = `${EVENT_ID_PREFIX}${inferenceId}`;
  if (plain.length <= EVENT_ID_LENGTH_MAX) return plain;
  return `${EVENT_ID_PREFIX}sha256:${createHash('sha256').update(inferenceId, 'utf8').digest('hex')}`;
}

/**
 * The policy's decision as InferenceAttributed. Postings on the wire are credits only (the ledger
 * debits the consumer the fee). The protocol's and the model owner's accounts are always listed, with 0
 * when rounding left them nothing, so the event alone names every party the policy read; contributors
 * and datanet owners are named by contributionsSeen and datanetsSeen. `producer` is the inference's
 * ce_source: whose deposits back the decision's credits.
 */
export function toAttributedEvent(
  decision: AttributionDecision,
  inferenceEventId: string,
  occurredAtMs: bigint,
  producer: string,
): InferenceAttributed {
  const { inference, model, datanets, contributions, protocolId } = decision.inputsSeen;
  const credits = decision.postings
    .slice(1)
    .map((posting) => ({ accountId: posting.account, asset: posting.asset, amountMinor: posting.amountMinor }));
  for (const account of [accountId('protocol', protocolId), accountId('model-owner', model.owner)]) {
    if (!credits.some((credit) => credit.accountId === account))
      credits.push({ accountId: account, asset: inference.asset, amountMinor: 0n });
  }
  sortInPlace(credits, (left, right) => compareIds(left.accountId, right.accountId));
  const statesById = new Map(contributions.map((state) => [state.contributionId, state]));
  return {
    eventId: decisionEventId(inference.inferenceId),
    inferenceId: inference.inferenceId,
    occurredAt: occurredAtMs,
    inferenceEventId,
    producer,
    policyVersion: decision.policyVersion,
    modelId: model.modelId,
    consumerId: inference.consumerId,
    asset: inference.asset,
    feeMinor: inference.feeMinor,
    split: { ...decision.split },
    postings: credits,
    rejected: decision.rejected.map(({ contributionId, reason }) => ({ contributionId, reason })),
    contributionsSeen: inference.attributions.map(({ contributionId, scorePpm }) =>
      seen(contributionId, scorePpm, statesById.get(contributionId)),
    ),
    datanetsSeen: datanets.map((datanet) => {
      const { minDataBps, allowedModelOwners } = termsOf(datanet);
      return {
        datanetId: datanet.datanetId,
        ownerId: datanet.owner,
        curatorShareBps: datanet.curatorShareBps,
        minDataBps,
        allowedModelOwners,
      };
    }),
    orderingRule: ORDERING_RULE_TEXT,
  };
}

function seen(contributionId: string, scorePpm: number, state: ContributionState | undefined): ContributionSeen {
  if (state === undefined)
    return { contributionId, status: 'UNKNOWN', datanetId: null, contributorId: null, scorePpm: BigInt(scorePpm) };
  // Revocation wins over the review status in the policy's order of reasons, so REVOKED alone recomputes the same.
  const status = state.revoked ? 'REVOKED' : state.status === 'SUBMITTED' ? 'PENDING' : state.status;
  return {
    contributionId,
    status,
    datanetId: state.datanetId,
    contributorId: state.contributor,
    scorePpm: BigInt(scorePpm),
  };
}

/**
 * The policy input a decision was made from, rebuilt from the event alone. `method` is not part of
 * InferenceAttributed; it does not change the split, so any label recomputes the same postings.
 * A v2 decision recorded the protocol share it applied (split.protocolBps) and each datanet's terms
 * (datanetsSeen; a v1 record reads them at their defaults, no terms), so the recorded policy is
 * re-run, never the current one. Policy v2 reads only dataBps of the model's split, so the applied
 * split stands in for the registered one.
 */
export function inputFromEvent(event: InferenceAttributed, method = 'not-recorded'): AttributionInput {
  const owner = accountOwner(event, 'model-owner');
  const protocolId = accountOwner(event, 'protocol');
  const inference: InferenceFacts = {
    inferenceId: event.inferenceId,
    modelId: event.modelId,
    consumerId: event.consumerId,
    asset: event.asset,
    feeMinor: event.feeMinor,
    attributions: event.contributionsSeen.map(({ contributionId, scorePpm }) => ({
      contributionId,
      scorePpm: Number(scorePpm),
    })),
    method,
  };
  const contributions = new Map<string, ContributionState>();
  for (const entry of event.contributionsSeen) {
    if (entry.status === 'UNKNOWN' || entry.datanetId === null || entry.contributorId === null) continue;
    const status = entry.status === 'ACCEPTED' || entry.status === 'REJECTED' ? entry.status : 'SUBMITTED';
    contributions.set(entry.contributionId, {
      contributionId: entry.contributionId,
      datanetId: entry.datanetId,
      contributor: entry.contributorId,
      status,
      revoked: entry.status === 'REVOKED',
    });
  }
  return {
    inference,
    model: {
      modelId: event.modelId,
      owner,
      datanetIds: event.datanetsSeen.map((datanet) => datanet.datanetId),
      split: { ...event.split },
    },
    datanets: event.datanetsSeen.map(({ datanetId, ownerId, curatorShareBps, minDataBps, allowedModelOwners }) => ({
      datanetId,
      owner: ownerId,
      curatorShareBps,
      minDataBps,
      allowedModelOwners: allowedModelOwners === null ? null : [...allowedModelOwners],
    })),
    contributions: [...contributions.values()],
    protocolId,
    ...(event.policyVersion === 2 ? { policy: { version: 2 as const, protocolBps: event.split.protocolBps } } : {}),
  };
}

/** Re-runs the recorded policy on the event's inputs; the caller compares the result with the event. */
export function recompute(event: InferenceAttributed, method?: string): AttributionDecision {
  if (event.policyVersion !== 1 && event.policyVersion !== 2)
    throw new RangeError(`policyVersion ${event.policyVersion} is not known to this service`);
  return decideAttribution(inputFromEvent(event, method));
}

/** The credits of a decision as the wire lists them (zero credits of the protocol and model owner included). */
export function sameCredits(event: InferenceAttributed, decision: AttributionDecision): boolean {
  const wire = event.postings
    .filter((posting) => posting.amountMinor !== 0n)
    .map((p) => `${p.accountId}=${p.amountMinor}`);
  const policy = decision.postings.slice(1).map((p) => `${p.account}=${p.amountMinor}`);
  return wire.join(',') === policy.join(',');
}

function accountOwner(event: InferenceAttributed, role: 'protocol' | 'model-owner'): string {
  for (const posting of event.postings) {
    const ref = parseAccount(posting.accountId);
    if (ref?.role === role) return ref.ownerId;
  }
  throw new RangeError(`postings: the decision of ${event.inferenceId} names no ${role} account`);
}
