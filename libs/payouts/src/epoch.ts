import { createHmac } from 'node:crypto';
import { compareIds, isEarnerRole, parseAccount, type EarnerRole } from '@tributary/attribution';

/** An account's payable balance as the ledger had applied it up to a recorded position of the log. */
export interface PayableBalance {
  readonly accountId: string;
  readonly asset: string;
  readonly payableMinor: bigint;
}

/** Minimum payable balance, per account role, for a payout to be worth its cost; per asset when given. */
export interface PayoutThresholds {
  readonly defaultMinor: Readonly<Record<EarnerRole, bigint>>;
  readonly perAssetMinor?: Readonly<Record<string, Partial<Record<EarnerRole, bigint>>>>;
}

/** Documented defaults: contributors earn in small amounts, so they wait until a payout is worth it. */
export const DEFAULT_THRESHOLDS: PayoutThresholds = {
  defaultMinor: { contributor: 1_000n, 'model-owner': 1_000n, 'datanet-owner': 1_000n, protocol: 1n },
};

export interface EpochPayout {
  readonly payoutId: string;
  readonly accountId: string;
  readonly asset: string;
  readonly amountMinor: bigint;
  readonly epoch: number;
}

export const EPOCH_MAX = 2 ** 31 - 1;
/** The most one payout event can carry (its amount is an Avro long); a larger balance is paid over several epochs. */
export const PAYOUT_AMOUNT_MAX = 2n ** 63n - 1n;
export const BALANCES_PER_EPOCH_MAX = 1_000_000;

/** Bytes of the key an epoch's payout ids are made with (see payoutIdOf). */
export const PAYOUT_ID_KEY_BYTES = 32;

/**
 * The payout id of an account's payout in an epoch: an HMAC of the epoch, account and asset under a key
 * the epoch close draws at random and keeps nowhere. Ids are derived from public inputs otherwise, and a
 * predictable id let anyone who could write a PayoutRequested publish one under it before the payouts
 * service did. A second close of an epoch plans nothing (the epoch is recorded once), so no id ever needs
 * computing again. At most 256 characters whatever the account id's length.
 */
export function payoutIdOf(idKey: Uint8Array, epoch: number, accountId: string, asset: string): string {
  if (idKey.length < PAYOUT_ID_KEY_BYTES) throw new RangeError(`idKey: must be at least ${PAYOUT_ID_KEY_BYTES} bytes`);
  const digest = createHmac('sha256', idKey).update(`${epoch}\u0000${accountId}\u0000${asset}`).digest('hex');
  return `payout:${epoch}:${digest.slice(0, 40)}`;
}

/**
 * Closes an epoch: one payout per (account, asset) whose payable balance is at least its role's
 * threshold, for exactly that balance (never more; at most PAYOUT_AMOUNT_MAX, the rest waits for the
 * next epoch). Only earner roles are paid: consumer, ledger and unknown
 * accounts never are. Pure: time, position and the id key are the caller's; the output is sorted by account, then asset.
 */
export function computeEpochPayouts(
  epoch: number,
  balances: readonly PayableBalance[],
  idKey: Uint8Array,
  thresholds: PayoutThresholds = DEFAULT_THRESHOLDS,
): EpochPayout[] {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > EPOCH_MAX)
    throw new RangeError(`epoch: must be an integer from 0 to ${EPOCH_MAX}`);
  if (balances.length > BALANCES_PER_EPOCH_MAX)
    throw new RangeError(`balances: at most ${BALANCES_PER_EPOCH_MAX} per epoch`);
  const payouts: EpochPayout[] = [];
  for (const balance of balances) {
    const role = payableRole(balance.accountId);
    if (role === null || balance.payableMinor <= 0n) continue;
    if (balance.payableMinor < thresholdOf(thresholds, role, balance.asset)) continue;
    payouts.push({
      payoutId: payoutIdOf(idKey, epoch, balance.accountId, balance.asset),
      accountId: balance.accountId,
      asset: balance.asset,
      amountMinor: balance.payableMinor > PAYOUT_AMOUNT_MAX ? PAYOUT_AMOUNT_MAX : balance.payableMinor,
      epoch,
    });
  }
  return payouts.sort(
    (left, right) => compareIds(left.accountId, right.accountId) || compareIds(left.asset, right.asset),
  );
}

function payableRole(accountId: string): EarnerRole | null {
  const ref = parseAccount(accountId);
  return ref !== null && isEarnerRole(ref.role) ? ref.role : null;
}

function thresholdOf(thresholds: PayoutThresholds, role: EarnerRole, asset: string): bigint {
  const threshold = thresholds.perAssetMinor?.[asset]?.[role] ?? thresholds.defaultMinor[role];
  // A threshold of zero would request payouts of nothing; the schema forbids them.
  return threshold < 1n ? 1n : threshold;
}
