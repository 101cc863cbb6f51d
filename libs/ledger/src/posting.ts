/** One line of a ledger transaction: an amount in an asset's minor unit moving into (+) or out of (-) an account. */
export interface Posting {
  readonly account: string;
  readonly asset: string;
  readonly amountMinor: bigint;
}

/** Why a transaction cannot enter the ledger. Expected for bad input; the record goes to the DLQ. */
export class UnbalancedTransactionError extends Error {
  constructor(
    readonly asset: string,
    readonly sumMinor: bigint,
  ) {
    super(`postings in ${asset} sum to ${sumMinor}, not 0: every ledger transaction must balance per asset`);
    this.name = 'UnbalancedTransactionError';
  }
}

/** The sum of the postings per asset; a balanced transaction has 0 for every asset. */
export function sumPerAsset(postings: readonly Posting[]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const { asset, amountMinor } of postings) sums.set(asset, (sums.get(asset) ?? 0n) + amountMinor);
  return sums;
}

/** Throws UnbalancedTransactionError unless the postings sum to zero in every asset. */
export function assertBalanced(postings: readonly Posting[]): void {
  for (const [asset, sumMinor] of sumPerAsset(postings)) {
    if (sumMinor !== 0n) throw new UnbalancedTransactionError(asset, sumMinor);
  }
}
