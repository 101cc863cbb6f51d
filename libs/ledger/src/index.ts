export { type Posting, UnbalancedTransactionError, sumPerAsset, assertBalanced } from './posting';
export {
  type AttributionDecisionFacts,
  type LedgerTransaction,
  consumerAccount,
  transactionOfDecision,
} from './ledger-transaction';
export { PAYOUTS_IN_FLIGHT_ACCOUNT, settlementAccount, balanceKey } from './accounts';
/** Re-exported from the one definition of accounts, for the projector that imports it from here. */
export { classifyAccount, type AccountRole } from '@tributary/attribution';
export {
  type PayoutEvent,
  type PayoutState,
  type PayoutStatus,
  type PayoutDecision,
  PayoutRejectedError,
  decidePayout,
  foldPayouts,
} from './payouts';
export {
  type DecisionLineageFacts,
  type ContributionCredit,
  contributionCredits,
  knownPolicyVersion,
  UnknownPolicyVersionError,
} from './lineage';
export { type ChainedEntry, type ChainMismatch, GENESIS_HASH, EntryChain, entryHash, verifyChain } from './chain';
export { type AccountBalance, type ChainHead, ledgerDigest } from './digest';
export {
  BACKING_AMOUNT_MAX,
  type BackingCredit,
  type BackingDecision,
  type FundingFact,
  type BackingFact,
  type AccountSource,
  type PendingProducer,
  type AccountBacking,
  type ProducerBacking,
  type AssetBacking,
  type BackingReport,
  type PaidOrInFlight,
  backedShare,
  isFundingFact,
  computeBacking,
  paidOrInFlightMap,
} from './backing';
export { backingFactsFromTotals, type ProducerFundingTotals, type ProducerCreditTotal } from './backing-totals';
export {
  reconcileFunding,
  type PayoutCash,
  type FundingReconciliation,
  type FundingReconciliationLine,
} from './funding-reconciliation';
export {
  type AttributionFacts,
  type FundingMovement,
  type LedgerEvent,
  type LedgerFoldRecord,
  type AppliedEventState,
  type ChainCheckpoint,
  type LedgerFoldState,
  type LedgerStateKeys,
  type LedgerRefusalRule,
  type LedgerDeadLetter,
  type JournalTransaction,
  type AppliedEventRow,
  type ChainUpdate,
  type BalanceDelta,
  type RevenueDimension,
  type RevenueDelta,
  type InferenceLineage,
  type ProducerFundingDelta,
  type ProducerCreditDelta,
  type PayoutChange,
  type LedgerBatchEffects,
  UNKNOWN_PRODUCER,
  producerOf,
  initialLedgerState,
  ledgerStateKeys,
  foldLedgerBatch,
} from './fold';
