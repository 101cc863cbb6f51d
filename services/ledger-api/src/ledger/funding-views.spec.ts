// The funding views' mapping: the ledger's totals in, the API's answers out. Two producers in USDC, one
// that paid in all its fees and one that paid in half; amounts leave as decimal strings, an account names
// the producer it waits on, the producer shows its shortfall, and the reconciliation holds when the cash
// agrees with the accounts and names the asset when it does not.
import {
  backingOf,
  decimal,
  accountFunding,
  fundingOverview,
  payoutCashOf,
  producerFunding,
  type FundingSnapshot,
} from './funding-views';

const FULL = 'urn:tributary:producer:full';
const HALF = 'urn:tributary:producer:half';

const snapshot: FundingSnapshot = {
  funding: [
    { producer: FULL, asset: 'USDC', feesMinor: 1_000n, depositsMinor: 1_000n, chargebacksMinor: 0n },
    { producer: HALF, asset: 'USDC', feesMinor: 1_000n, depositsMinor: 500n, chargebacksMinor: 0n },
  ],
  credits: [
    { accountId: 'contributor:alice', producer: FULL, asset: 'USDC', creditedMinor: 600n },
    { accountId: 'model-owner:mona', producer: FULL, asset: 'USDC', creditedMinor: 400n },
    { accountId: 'contributor:alice', producer: HALF, asset: 'USDC', creditedMinor: 300n },
    { accountId: 'contributor:bob', producer: HALF, asset: 'USDC', creditedMinor: 700n },
  ],
  paidOrInFlight: [{ accountId: 'contributor:alice', asset: 'USDC', amountMinor: 400n }],
  cash: [
    { asset: 'USDC', settledMinor: 400n, inFlightMinor: 0n, settlementAccountsMinor: 400n, inFlightAccountMinor: 0n },
  ],
};

describe('the funding views', () => {
  const report = backingOf(snapshot);

  it('turns every bigint into its decimal string, however deep', () => {
    expect(decimal({ a: 1n, b: [{ c: -2n, d: 'x' }], e: true, f: null })).toEqual({
      a: '1',
      b: [{ c: '-2', d: 'x' }],
      e: true,
      f: null,
    });
  });

  it('gives an account its earned, backed, payable and pending funding, naming the producer it waits on', () => {
    expect(accountFunding(report, 'contributor:alice')).toEqual({
      account: 'contributor:alice',
      assets: [
        {
          asset: 'USDC',
          earnedMinor: '900',
          backedMinor: '750',
          paidOrInFlightMinor: '400',
          payableMinor: '350',
          pendingFundingMinor: '150',
          heldMinor: '0',
          overpaidMinor: '0',
          waitingOn: [{ producer: HALF, amountMinor: '150' }],
          sources: [
            {
              producer: FULL,
              earnedMinor: '600',
              backedMinor: '600',
              paidOrInFlightMinor: '400',
              payableMinor: '200',
              heldMinor: '0',
            },
            {
              producer: HALF,
              earnedMinor: '300',
              backedMinor: '150',
              paidOrInFlightMinor: '0',
              payableMinor: '150',
              heldMinor: '0',
            },
          ],
        },
      ],
    });
    expect(accountFunding(report, 'model-owner:mona').assets[0]).toMatchObject({
      pendingFundingMinor: '0',
      waitingOn: [],
    });
    expect(accountFunding(report, 'consumer:nobody')).toEqual({ account: 'consumer:nobody', assets: [] });
  });

  it('gives a producer its fees, deposits and shortfall', () => {
    expect(producerFunding(report, HALF)).toEqual({
      producer: HALF,
      assets: [
        {
          asset: 'USDC',
          feesReportedMinor: '1000',
          creditedMinor: '1000',
          depositsMinor: '500',
          chargebacksMinor: '0',
          netDepositsMinor: '500',
          shortfallMinor: '500',
          prepaidMinor: '0',
          backedMinor: '500',
          paidOrInFlightMinor: '0',
          payableMinor: '500',
          heldMinor: '0',
          debtMinor: '0',
          treasuryRemainderMinor: '0',
        },
      ],
    });
    expect(producerFunding(report, FULL).assets[0]).toMatchObject({ shortfallMinor: '0', backedMinor: '1000' });
    expect(producerFunding(report, 'urn:tributary:producer:unknown').assets).toEqual([]);
  });

  it('gives the treasury per asset and a reconciliation that holds', () => {
    const overview = fundingOverview(report, snapshot.cash);
    expect(overview.assets).toEqual([
      expect.objectContaining({
        asset: 'USDC',
        depositsMinor: '1500',
        fundedMinor: '1500',
        backedTotalMinor: '1500',
        payableTotalMinor: '1100',
        shortfallTotalMinor: '500',
        treasuryRemainderMinor: '0',
        backedWithinDeposits: true,
      }),
    ]);
    expect(overview.producers.map((row) => [row.producer, row.shortfallMinor])).toEqual([
      [FULL, '0'],
      [HALF, '500'],
    ]);
    expect(overview.reconciliation).toEqual({
      holds: true,
      lines: [
        {
          asset: 'USDC',
          netDepositsMinor: '1500',
          settledMinor: '400',
          inFlightMinor: '0',
          backedUnpaidMinor: '1100',
          treasuryRemainderMinor: '0',
          prepaidMinor: '0',
          debtMinor: '0',
          holds: true,
        },
      ],
      problems: [],
    });
  });

  it('fails the reconciliation by name when the settlement accounts disagree with the payouts', () => {
    const cash = [{ ...snapshot.cash[0]!, settlementAccountsMinor: 399n }];
    const { reconciliation } = fundingOverview(report, cash);
    expect(reconciliation.holds).toBe(false);
    expect(reconciliation.problems).toEqual(['USDC: settled payouts sum to 400 but the settlement accounts hold 399']);
  });

  it('puts the payouts table and the ledger accounts side by side per asset, zero where one side has nothing', () => {
    expect(
      payoutCashOf(
        [{ asset: 'USDC', settledMinor: 5n, inFlightMinor: 2n }],
        [
          { asset: 'EUR', settlementAccountsMinor: 1n, inFlightAccountMinor: 0n },
          { asset: 'USDC', settlementAccountsMinor: 5n, inFlightAccountMinor: 2n },
        ],
      ),
    ).toEqual([
      { asset: 'EUR', settledMinor: 0n, inFlightMinor: 0n, settlementAccountsMinor: 1n, inFlightAccountMinor: 0n },
      { asset: 'USDC', settledMinor: 5n, inFlightMinor: 2n, settlementAccountsMinor: 5n, inFlightAccountMinor: 2n },
    ]);
  });
});
