export { type Posting, UnbalancedTransactionError, sumPerAsset, assertBalanced } from './posting';
