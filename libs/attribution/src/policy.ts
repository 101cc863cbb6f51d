import { assertNever } from './errors';
import { BPS_TOTAL } from './limits';
import type { PolicyVersion } from './types';

const bpsTotal = BigInt(BPS_TOTAL);

/** Whether this library knows the policy of `version`: a decision of another version cannot be re-derived here. */
export function isPolicyVersion(version: number): version is PolicyVersion {
  return version === 1 || version === 2;
}

/**
 * The weight policy `version` gives one counted contribution in its contributor's part of the data
 * share: its score times the part of its datanet's share the curator leaves to contributors. A
 * contributor's credit is the sum of such weights (times the data share, common to all), so lineage
 * splits a credit back over its contributions by these same weights.
 */
export function contributionWeight(version: PolicyVersion, scorePpm: bigint, curatorShareBps: number): bigint {
  switch (version) {
    case 1:
    case 2:
      return scorePpm * (bpsTotal - BigInt(curatorShareBps));
    default:
      return assertNever(version);
  }
}
