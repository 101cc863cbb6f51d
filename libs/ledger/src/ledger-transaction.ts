import { accountId } from '@tributary/attribution';
import { assertBalanced, type Posting } from './posting';

/** What the ledger needs of one attribution decision; the wire type maps onto it at the edge. */
export interface AttributionDecisionFacts {
  readonly eventId: string;
  readonly inferenceId: string;
  readonly consumerId: string;
  readonly asset: string;
  readonly feeMinor: bigint;
  readonly credits: ReadonlyArray<{ readonly accountId: string; readonly asset: string; readonly amountMinor: bigint }>;
}

export interface LedgerTransaction {
  /** The transaction id is the inference id: one decision per inference, so one transaction. */
  readonly transactionId: string;
  readonly sourceEventId: string;
  readonly postings: readonly Posting[];
}

/** The account a consumer pays from; the attribution policy credits, the ledger debits here. */
export function consumerAccount(consumerId: string): string {
  return accountId('consumer', consumerId);
}

/**
 * Folds one decision into a ledger transaction: the consumer's debit of the fee, then each credit.
 * Throws UnbalancedTransactionError when the credits do not sum to the fee in the fee's asset.
 */
export function transactionOfDecision(decision: AttributionDecisionFacts): LedgerTransaction {
  const postings: Posting[] = [
    { account: consumerAccount(decision.consumerId), asset: decision.asset, amountMinor: -decision.feeMinor },
    ...decision.credits.map((credit) => ({
      account: credit.accountId,
      asset: credit.asset,
      amountMinor: credit.amountMinor,
    })),
  ];
  assertBalanced(postings);
  return { transactionId: decision.inferenceId, sourceEventId: decision.eventId, postings };
}
