import {
  backingFactsFromTotals,
  computeBacking,
  paidOrInFlightMap,
  reconcileFunding,
  type BackingReport,
  type PayoutCash,
  type ProducerCreditTotal,
  type ProducerFundingTotals,
} from '@tributary/ledger';

/**
 * The funding views: pure mapping from the ledger's funding totals (producer_funding, producer_credits),
 * what each account has been paid or has in flight, and the payout cash, to the answers of the funding
 * endpoints. No database here: funding-queries.ts loads the rows in one snapshot and hands them over.
 * Amounts leave as decimal strings of minor units, like everywhere else in this API.
 */

/** A bigint becomes its decimal string, everywhere inside a value. */
export type Decimal<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? Decimal<U>[]
    : T extends object
      ? { -readonly [K in keyof T]: Decimal<T[K]> }
      : T;

export function decimal<T>(value: T): Decimal<T> {
  if (typeof value === 'bigint') return value.toString() as Decimal<T>;
  if (Array.isArray(value)) return value.map((item) => decimal(item)) as Decimal<T>;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, decimal(item)])) as Decimal<T>;
  return value as Decimal<T>;
}

/** Everything the funding views need, as one snapshot of the ledger gives it. */
export interface FundingSnapshot {
  readonly funding: readonly ProducerFundingTotals[];
  readonly credits: readonly ProducerCreditTotal[];
  /** Per (account, asset): the sum of its payouts REQUESTED or SETTLED. */
  readonly paidOrInFlight: readonly {
    readonly accountId: string;
    readonly asset: string;
    readonly amountMinor: bigint;
  }[];
  readonly cash: readonly PayoutCash[];
}

/** The backing report of one snapshot: the one place the rules of libs/ledger are applied for this API. */
export function backingOf(snapshot: FundingSnapshot): BackingReport {
  return computeBacking(
    backingFactsFromTotals(snapshot.funding, snapshot.credits),
    paidOrInFlightMap(snapshot.paidOrInFlight),
  );
}

/**
 * The payout cash per asset: what the payouts table says left (SETTLED) or is leaving (REQUESTED), beside
 * what the ledger's own accounts hold (settlement:<rail> together, clearing:payouts-in-flight). An asset
 * known to only one side gets zeros on the other, so a disagreement shows rather than vanishes.
 */
export function payoutCashOf(
  payouts: readonly { readonly asset: string; readonly settledMinor: bigint; readonly inFlightMinor: bigint }[],
  accounts: readonly {
    readonly asset: string;
    readonly settlementAccountsMinor: bigint;
    readonly inFlightAccountMinor: bigint;
  }[],
): PayoutCash[] {
  const assets = [...new Set([...payouts.map((row) => row.asset), ...accounts.map((row) => row.asset)])].sort();
  return assets.map((asset) => {
    const paid = payouts.filter((row) => row.asset === asset);
    const held = accounts.filter((row) => row.asset === asset);
    const total = <T>(rows: readonly T[], pick: (row: T) => bigint) => rows.reduce((sum, row) => sum + pick(row), 0n);
    return {
      asset,
      settledMinor: total(paid, (row) => row.settledMinor),
      inFlightMinor: total(paid, (row) => row.inFlightMinor),
      settlementAccountsMinor: total(held, (row) => row.settlementAccountsMinor),
      inFlightAccountMinor: total(held, (row) => row.inFlightAccountMinor),
    };
  });
}

/** One account per asset: earned, backed, paid or in flight, payable, pending funding, held, and whom it waits on. */
export function accountFunding(report: BackingReport, accountId: string) {
  return {
    account: accountId,
    assets: report.accounts
      .filter((row) => row.accountId === accountId)
      .map((row) =>
        decimal({
          asset: row.asset,
          earnedMinor: row.earnedMinor,
          backedMinor: row.backedMinor,
          paidOrInFlightMinor: row.paidOrInFlightMinor,
          payableMinor: row.payableMinor,
          pendingFundingMinor: row.pendingFundingMinor,
          heldMinor: row.heldMinor,
          overpaidMinor: row.overpaidMinor,
          waitingOn: row.waitingOn,
          sources: row.sources,
        }),
      ),
  };
}

/** One producer per asset: fees reported, deposits, chargebacks, net deposits, shortfall, prepaid, backed, debt. */
export function producerFunding(report: BackingReport, producer: string) {
  return { producer, assets: report.producers.filter((row) => row.producer === producer).map(producerRow) };
}

function producerRow(row: BackingReport['producers'][number]) {
  return decimal({
    asset: row.asset,
    feesReportedMinor: row.feesReportedMinor,
    creditedMinor: row.creditedMinor,
    depositsMinor: row.depositsMinor,
    chargebacksMinor: row.chargebacksMinor,
    netDepositsMinor: row.netDepositsMinor,
    shortfallMinor: row.shortfallMinor,
    prepaidMinor: row.prepaidMinor,
    backedMinor: row.backedMinor,
    paidOrInFlightMinor: row.paidOrInFlightMinor,
    payableMinor: row.payableMinor,
    heldMinor: row.heldMinor,
    debtMinor: row.debtMinor,
    treasuryRemainderMinor: row.treasuryRemainderMinor,
  });
}

/**
 * The treasury's figures per asset, every producer's standing (shortfall first), and the funding
 * reconciliation: per asset net deposits + debt = settled + in flight + backed unpaid + treasury
 * remainder + prepaid, with the payout cash checked against the settlement and in-flight accounts.
 */
export function fundingOverview(report: BackingReport, cash: readonly PayoutCash[]) {
  const reconciliation = reconcileFunding(report.assets, report.producers, cash);
  return {
    assets: report.assets.map((row) => decimal(row)),
    producers: report.producers.map((row) => ({ producer: row.producer, ...producerRow(row) })),
    reconciliation: {
      holds: reconciliation.problems.length === 0,
      lines: reconciliation.lines.map((line) => decimal(line)),
      problems: [...reconciliation.problems],
    },
  };
}
