export { type Posting, UnbalancedTransactionError, sumPerAsset, assertBalanced } from './posting';
export {
  type AttributionDecisionFacts,
  type LedgerTransaction,
  consumerAccount,
  transactionOfDecision,
} from './ledger-transaction';
