import {
  accountPrefix,
  apportionLargestRemainder,
  contributionWeight,
  isPolicyVersion,
  parseAccount,
  type PolicyVersion,
} from '@tributary/attribution';

/** What lineage needs of one decision; the wire type maps onto it at the edge. */
export interface DecisionLineageFacts {
  /** The policy that made the decision: its weights split each credit back over contributions. */
  readonly policyVersion: number;
  readonly postings: ReadonlyArray<{ readonly accountId: string; readonly amountMinor: bigint }>;
  readonly rejected: ReadonlyArray<{ readonly contributionId: string }>;
  readonly contributionsSeen: ReadonlyArray<{
    readonly contributionId: string;
    readonly status: string;
    readonly datanetId: string | null;
    readonly contributorId: string | null;
    readonly scorePpm: bigint;
  }>;
  readonly datanetsSeen: ReadonlyArray<{ readonly datanetId: string; readonly curatorShareBps: number }>;
}

/** One contribution behind one contributor credit, with its part of that credit. */
export interface ContributionCredit {
  readonly account: string;
  readonly contributionId: string;
  readonly datanetId: string;
  readonly scorePpm: bigint;
  readonly amountMinor: bigint;
}

const CONTRIBUTOR_PREFIX = accountPrefix('contributor');

/** A decision made by a policy this library does not know: its lineage cannot be derived. */
export class UnknownPolicyVersionError extends Error {
  override readonly name = 'UnknownPolicyVersionError';
  constructor(readonly policyVersion: number) {
    super(
      `policyVersion: ${policyVersion} is not a policy version this ledger knows; its credits cannot be traced to contributions`,
    );
  }
}

/** The decision's policy version, checked: lineage uses that version's weights, never the current policy's. */
export function knownPolicyVersion(policyVersion: number): PolicyVersion {
  if (!isPolicyVersion(policyVersion)) throw new UnknownPolicyVersionError(policyVersion);
  return policyVersion;
}

/**
 * Maps each contributor credit of a decision to the contributions that earned it. The decision's
 * policy (by its version) says what each contribution weighs, so a contributor's credit is split
 * back over their counted contributions by the same weights, by largest remainder: the parts sum to
 * the credit exactly. A credit with no counted contribution behind it (should not happen) is left
 * without lineage rather than invented. Throws UnknownPolicyVersionError for a version the policy
 * library does not know (the fold refuses such a decision before it gets here).
 */
export function contributionCredits(decision: DecisionLineageFacts): ContributionCredit[] {
  const version = knownPolicyVersion(decision.policyVersion);
  const rejected =
    decision.rejected.length === 0 ? null : new Set(decision.rejected.map((rejection) => rejection.contributionId));
  const curatorBps = new Map<string, number>();
  for (const datanet of decision.datanetsSeen) curatorBps.set(datanet.datanetId, datanet.curatorShareBps);
  const byContributor = new Map<string, Array<DecisionLineageFacts['contributionsSeen'][number]>>();
  for (const seen of decision.contributionsSeen) {
    if (
      seen.status !== 'ACCEPTED' ||
      rejected?.has(seen.contributionId) ||
      seen.contributorId === null ||
      seen.datanetId === null
    )
      continue;
    const list = byContributor.get(seen.contributorId);
    if (list) list.push(seen);
    else byContributor.set(seen.contributorId, [seen]);
  }
  const credits: ContributionCredit[] = [];
  for (const posting of decision.postings) {
    if (!posting.accountId.startsWith(CONTRIBUTOR_PREFIX)) continue;
    const ref = parseAccount(posting.accountId);
    if (ref?.role !== 'contributor') continue;
    const behind = byContributor.get(ref.ownerId);
    if (!behind) continue;
    if (behind.length === 1) {
      // One contribution behind the credit (the usual case) takes all of it, as the split would give,
      // provided its weight is not zero.
      const seen = behind[0]!;
      if (contributionWeight(version, seen.scorePpm, curatorBps.get(seen.datanetId!) ?? 0) > 0n) {
        credits.push({
          account: posting.accountId,
          contributionId: seen.contributionId,
          datanetId: seen.datanetId!,
          scorePpm: seen.scorePpm,
          amountMinor: posting.amountMinor,
        });
      }
      continue;
    }
    const weights = new Map<string, bigint>();
    let weightTotal = 0n;
    for (const seen of behind) {
      const weight = contributionWeight(version, seen.scorePpm, curatorBps.get(seen.datanetId!) ?? 0);
      weights.set(seen.contributionId, (weights.get(seen.contributionId) ?? 0n) + weight);
      weightTotal += weight;
    }
    if (weightTotal === 0n) continue;
    const parts = apportionLargestRemainder(posting.amountMinor, weights);
    for (const seen of behind) {
      const amountMinor = parts.get(seen.contributionId);
      if (amountMinor === undefined) continue;
      parts.delete(seen.contributionId);
      credits.push({
        account: posting.accountId,
        contributionId: seen.contributionId,
        datanetId: seen.datanetId!,
        scorePpm: seen.scorePpm,
        amountMinor,
      });
    }
  }
  return credits;
}
