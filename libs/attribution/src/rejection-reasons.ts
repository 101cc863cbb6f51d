import type { RejectionReason } from './types';

/**
 * Why a contribution did not count, in words a contributor understands: the one wording of the
 * policy's rejection reasons, for explain() and for the query API. Typed over every reason, so a new
 * reason without words does not compile. Past tense, because it is read after the decision was made.
 */
export const REJECTION_REASON_TEXT: Readonly<Record<RejectionReason, string>> = {
  DUPLICATE: 'listed more than once by the inference, so no single score can be trusted',
  UNKNOWN_CONTRIBUTION: 'no such contribution had been submitted when the inference was decided',
  OUTSIDE_MODEL_DATANETS: 'it belongs to a datanet the model was not trained on',
  REVOKED: 'its contributor had revoked it',
  NOT_ACCEPTED: 'validators had not accepted it',
  ZERO_SCORE: 'the inference gave it a score of zero',
};

/**
 * The words for a reason code as read from the log. A decision written by a newer policy version may
 * carry a code this build does not know (the schema says readers must accept them): it is shown as is.
 */
export function rejectionReasonText(reason: string): string {
  return Object.hasOwn(REJECTION_REASON_TEXT, reason) ? REJECTION_REASON_TEXT[reason as RejectionReason] : reason;
}

/** The line a statement or an explanation shows for one rejected contribution. */
export function rejectionLine(contributionId: string, reason: string): string {
  return `Contribution ${contributionId} did not count (${reason}): ${rejectionReasonText(reason)}.`;
}
