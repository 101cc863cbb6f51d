import { accountId } from '@tributary/attribution';

/**
 * The ledger's own accounts. Roles, the id format and classifyAccount are defined once in
 * @tributary/attribution (accounts.ts); this module only names the accounts the ledger itself keeps.
 */

/**
 * Where a requested payout waits until the rail settles or fails it. Keeping it in the ledger (rather
 * than debiting the participant only on settlement) is what stops a second request from spending the
 * same payable balance twice.
 */
export const PAYOUTS_IN_FLIGHT_ACCOUNT = accountId('clearing', 'payouts-in-flight');

/** The outside world a settled payout leaves to, one account per rail, so totals per rail reconcile. */
export function settlementAccount(rail: string): string {
  return accountId('settlement', rail);
}

/** Balances are kept per (account, asset); this is the map key used by every fold. */
export function balanceKey(account: string, asset: string): string {
  return `${account}\u0000${asset}`;
}
