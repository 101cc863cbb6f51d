import type { BackingFact } from './backing';

/** What the ledger keeps per producer and asset: fees its decisions reported, money received and reversed. */
export interface ProducerFundingTotals {
  readonly producer: string;
  readonly asset: string;
  readonly feesMinor: bigint;
  readonly depositsMinor: bigint;
  readonly chargebacksMinor: bigint;
}

/** What one earning account was credited from one producer's inferences, in one asset. */
export interface ProducerCreditTotal {
  readonly accountId: string;
  readonly producer: string;
  readonly asset: string;
  readonly creditedMinor: bigint;
}

/**
 * The backing rules' facts from the ledger's running totals. The rules take only sums, so one decision
 * per producer and asset (its total fees, each account's total credit), one deposit and one chargeback
 * give exactly the answer the individual facts would. A total past one fact's bound (2^63 - 1 minor
 * units) is refused by computeBacking with the field named.
 */
export function backingFactsFromTotals(
  funding: readonly ProducerFundingTotals[],
  credits: readonly ProducerCreditTotal[],
): BackingFact[] {
  const creditsOf = new Map<string, Array<{ accountId: string; amountMinor: bigint }>>();
  const keyOf = (producer: string, asset: string) => `${producer}\u0000${asset}`;
  for (const credit of credits) {
    const key = keyOf(credit.producer, credit.asset);
    creditsOf.set(key, [
      ...(creditsOf.get(key) ?? []),
      { accountId: credit.accountId, amountMinor: credit.creditedMinor },
    ]);
  }
  const facts: BackingFact[] = [];
  const seen = new Set<string>();
  for (const totals of funding) {
    const key = keyOf(totals.producer, totals.asset);
    seen.add(key);
    facts.push({
      producer: totals.producer,
      asset: totals.asset,
      feeMinor: totals.feesMinor,
      credits: creditsOf.get(key) ?? [],
    });
    if (totals.depositsMinor > 0n)
      facts.push({
        producer: totals.producer,
        asset: totals.asset,
        amountMinor: totals.depositsMinor,
        kind: 'deposit',
      });
    if (totals.chargebacksMinor > 0n)
      facts.push({
        producer: totals.producer,
        asset: totals.asset,
        amountMinor: totals.chargebacksMinor,
        kind: 'chargeback',
      });
  }
  const orphan = [...creditsOf.keys()].find((key) => !seen.has(key));
  if (orphan !== undefined)
    throw new RangeError(`credits: ${orphan.replace('\u0000', ' in ')} has credits but no fee totals`);
  return facts;
}
