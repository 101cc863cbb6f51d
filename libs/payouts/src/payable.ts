import type { PayableBalance } from './epoch';

/** A payout this service requested that the ledger had not applied at the position the balances were read. */
export interface UnappliedRequest {
  readonly accountId: string;
  readonly asset: string;
  readonly amountMinor: bigint;
}

/**
 * What an account may still be paid: its ledger balance less the requests the ledger has not reserved
 * yet. Without the subtraction, closing epoch N+1 before the ledger applied epoch N's requests would
 * request the same money again (the ledger would refuse the second request as an overdraft, but a
 * payouts service should not lean on that). Pure; the result never exceeds the ledger balance.
 */
export function payableBalances(
  ledgerBalances: readonly PayableBalance[],
  unapplied: readonly UnappliedRequest[],
): PayableBalance[] {
  const reservedMinor = new Map<string, bigint>();
  for (const request of unapplied) {
    if (request.amountMinor < 0n)
      throw new RangeError(`amountMinor: an unapplied request of ${request.accountId} is negative`);
    const key = `${request.accountId}\u0000${request.asset}`;
    reservedMinor.set(key, (reservedMinor.get(key) ?? 0n) + request.amountMinor);
  }
  return ledgerBalances.map((balance) => ({
    ...balance,
    payableMinor: balance.payableMinor - (reservedMinor.get(`${balance.accountId}\u0000${balance.asset}`) ?? 0n),
  }));
}

/**
 * What an epoch may pay: no more than the ledger balance (less unapplied requests) and no more than the
 * part of it deposits back (libs/ledger backing.ts, keyed by balanceKey). An account the backing does
 * not name is backed by nothing. Pure; never raises an amount.
 */
export function capToBacked(
  payable: readonly PayableBalance[],
  backedPayable: ReadonlyMap<string, bigint>,
  keyOf: (accountId: string, asset: string) => string,
): PayableBalance[] {
  return payable.map((balance) => {
    const backed = backedPayable.get(keyOf(balance.accountId, balance.asset)) ?? 0n;
    return backed < balance.payableMinor ? { ...balance, payableMinor: backed } : balance;
  });
}
