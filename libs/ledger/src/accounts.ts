import { parseAccountId } from '@tributary/attribution';

/**
 * Where a requested payout waits until the rail settles or fails it. Keeping it in the ledger (rather
 * than debiting the participant only on settlement) is what stops a second request from spending the
 * same payable balance twice.
 */
export const PAYOUTS_IN_FLIGHT_ACCOUNT = 'clearing:payouts-in-flight';

/** The outside world a settled payout leaves to, one account per rail, so totals per rail reconcile. */
export function settlementAccount(rail: string): string {
  return `settlement:${rail}`;
}

export type AccountRole =
  | 'consumer'
  | 'contributor'
  | 'model-owner'
  | 'datanet-owner'
  | 'protocol'
  | 'clearing'
  | 'settlement'
  | 'other';

export interface AccountClass {
  readonly role: AccountRole;
  readonly ownerId: string;
}

/**
 * The role and owner of an account id. Participant accounts follow libs/attribution's accountId; the
 * ledger's own accounts are `clearing:*` and `settlement:*`. Anything else is kept as role `other` with
 * the whole id as owner, so an unexpected but balanced posting is still recorded and visible.
 */
export function classifyAccount(account: string): AccountClass {
  const ref = parseAccountId(account);
  if (ref) {
    switch (ref.kind) {
      case 'consumer':
        return { role: 'consumer', ownerId: ref.consumerId };
      case 'contributor':
        return { role: 'contributor', ownerId: ref.contributorId };
      case 'model-owner':
        return { role: 'model-owner', ownerId: ref.ownerId };
      case 'datanet-owner':
        return { role: 'datanet-owner', ownerId: ref.ownerId };
      case 'protocol':
        return { role: 'protocol', ownerId: ref.protocolId };
    }
  }
  const colon = account.indexOf(':');
  const kind = colon > 0 ? account.slice(0, colon) : '';
  if (kind === 'clearing' || kind === 'settlement') return { role: kind, ownerId: account.slice(colon + 1) };
  return { role: 'other', ownerId: account };
}

/** Balances are kept per (account, asset); this is the map key used by every fold. */
export function balanceKey(account: string, asset: string): string {
  return `${account}\u0000${asset}`;
}
