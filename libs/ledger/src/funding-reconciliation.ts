import type { AssetBacking, ProducerBacking } from './backing';

/** Money that left or is leaving, per asset, as the ledger's payouts and its accounts each tell it. */
export interface PayoutCash {
  readonly asset: string;
  /** Sum of the ledger's SETTLED payouts. */
  readonly settledMinor: bigint;
  /** Sum of the ledger's REQUESTED (reserved) payouts. */
  readonly inFlightMinor: bigint;
  /** Balance of the settlement:<rail> accounts together: must equal settledMinor. */
  readonly settlementAccountsMinor: bigint;
  /** Balance of clearing:payouts-in-flight: must equal inFlightMinor. */
  readonly inFlightAccountMinor: bigint;
}

export interface FundingReconciliationLine {
  readonly asset: string;
  readonly netDepositsMinor: bigint;
  readonly settledMinor: bigint;
  readonly inFlightMinor: bigint;
  /** Backed and not paid: payable now, or held while its producer is in debt. */
  readonly backedUnpaidMinor: bigint;
  readonly treasuryRemainderMinor: bigint;
  /** Deposits beyond the fees reported so far. */
  readonly prepaidMinor: bigint;
  /** Paid beyond backing after chargebacks, plus chargebacks beyond deposits: owed by producers. */
  readonly debtMinor: bigint;
  readonly holds: boolean;
}

export interface FundingReconciliation {
  readonly lines: readonly FundingReconciliationLine[];
  /** Each names the asset (and producer) and the rule broken; empty when everything holds. */
  readonly problems: readonly string[];
}

/**
 * Per asset, where every deposited unit is:
 *
 *   net deposits + debt = settled + in flight + backed unpaid + treasury remainder + prepaid
 *
 * the left side from the funding facts, the cash on the right from the ledger's payouts (checked against
 * the settlement and in-flight accounts), the rest from the backing rules. It fails when the two sides
 * differ, when the cash disagrees with the ledger's own accounts, or when more is backed than deposited.
 * Debt (a chargeback after a payout, or new unfunded fees diluting a producer's backing of what it was
 * already paid) is reported, not a failure: it is the producer's to repay from its next deposits.
 */
export function reconcileFunding(
  assets: readonly AssetBacking[],
  producers: readonly ProducerBacking[],
  cash: readonly PayoutCash[],
): FundingReconciliation {
  const problems: string[] = [];
  const cashOf = new Map(cash.map((line) => [line.asset, line]));
  const names = [...new Set([...assets.map((line) => line.asset), ...cash.map((line) => line.asset)])].sort();
  const lines = names.map((asset): FundingReconciliationLine => {
    const backing = assets.find((line) => line.asset === asset);
    const money = cashOf.get(asset) ?? {
      asset,
      settledMinor: 0n,
      inFlightMinor: 0n,
      settlementAccountsMinor: 0n,
      inFlightAccountMinor: 0n,
    };
    const prepaidMinor = producers
      .filter((producer) => producer.asset === asset)
      .reduce((sum, producer) => sum + producer.prepaidMinor, 0n);
    const line = {
      asset,
      netDepositsMinor: backing?.netDepositsMinor ?? 0n,
      settledMinor: money.settledMinor,
      inFlightMinor: money.inFlightMinor,
      backedUnpaidMinor: (backing?.payableTotalMinor ?? 0n) + (backing?.heldTotalMinor ?? 0n),
      treasuryRemainderMinor: backing?.treasuryRemainderMinor ?? 0n,
      prepaidMinor,
      debtMinor: backing?.debtTotalMinor ?? 0n,
    };
    const left = line.netDepositsMinor + line.debtMinor;
    const right =
      line.settledMinor + line.inFlightMinor + line.backedUnpaidMinor + line.treasuryRemainderMinor + line.prepaidMinor;
    if (left !== right)
      problems.push(
        `${asset}: net deposits ${line.netDepositsMinor} + debt ${line.debtMinor} = ${left}, but settled + in flight + backed unpaid + treasury remainder + prepaid = ${right}`,
      );
    if (money.settlementAccountsMinor !== money.settledMinor)
      problems.push(
        `${asset}: settled payouts sum to ${money.settledMinor} but the settlement accounts hold ${money.settlementAccountsMinor}`,
      );
    if (money.inFlightAccountMinor !== money.inFlightMinor)
      problems.push(
        `${asset}: reserved payouts sum to ${money.inFlightMinor} but clearing:payouts-in-flight holds ${money.inFlightAccountMinor}`,
      );
    if (backing && !backing.backedWithinDeposits)
      problems.push(
        `${asset}: more is backed (${backing.backedTotalMinor}) than was deposited (${backing.fundedMinor})`,
      );
    return { ...line, holds: left === right };
  });
  return { lines, problems };
}
