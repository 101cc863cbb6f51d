// The funding reconciliation: every deposited unit is accounted for, whatever the facts (property); debt
// is reported, and cash that disagrees with the ledger's accounts fails it by name.
import fc from 'fast-check';
import { balanceKey } from './accounts';
import { computeBacking, type BackingFact } from './backing';
import { reconcileFunding, type PayoutCash } from './funding-reconciliation';

const producers = ['urn:p:a', 'urn:p:b'];
const accounts = ['contributor:x', 'contributor:y'];
const decision = fc
  .record({
    producer: fc.constantFrom(...producers),
    x: fc.bigInt({ min: 0n, max: 1_000n }),
    y: fc.bigInt({ min: 0n, max: 1_000n }),
    extra: fc.bigInt({ min: 0n, max: 300n }),
  })
  .map(({ producer, x, y, extra }): BackingFact => ({
    producer,
    asset: 'USDC',
    feeMinor: x + y + extra,
    credits: [
      { accountId: accounts[0]!, amountMinor: x },
      { accountId: accounts[1]!, amountMinor: y },
    ],
  }));
const funding = fc
  .record({
    producer: fc.constantFrom(...producers),
    amountMinor: fc.bigInt({ min: 0n, max: 3_000n }),
    kind: fc.constantFrom('deposit' as const, 'chargeback' as const),
  })
  .map((fact): BackingFact => ({ ...fact, asset: 'USDC' }));

const cashOf = (settledMinor: bigint, inFlightMinor: bigint): PayoutCash[] => [
  {
    asset: 'USDC',
    settledMinor,
    inFlightMinor,
    settlementAccountsMinor: settledMinor,
    inFlightAccountMinor: inFlightMinor,
  },
];

describe('the funding reconciliation', () => {
  it('accounts for every deposited unit when payouts took only what was payable, whatever came after (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(decision, funding), { maxLength: 20 }),
        fc.array(fc.oneof(decision, funding), { maxLength: 10 }),
        fc.nat({ max: 100 }),
        (before, after, settledShare) => {
          // Pay out what is payable after the first facts (part settled, the rest in flight), then more facts arrive.
          const first = computeBacking(before);
          const paid = new Map(
            first.accounts.map((account) => [balanceKey(account.accountId, account.asset), account.payableMinor]),
          );
          const total = [...paid.values()].reduce((sum, value) => sum + value, 0n);
          const settled = (total * BigInt(settledShare)) / 100n;
          const report = computeBacking([...before, ...after], paid);
          const result = reconcileFunding(report.assets, report.producers, cashOf(settled, total - settled));
          expect(result.lines.every((line) => line.holds)).toBe(true);
          expect(result.problems).toEqual([]);
        },
      ),
    );
  });

  it("reports a payout no deposit backed as the producer's debt, and still accounts for every unit", () => {
    const facts: BackingFact[] = [
      {
        producer: 'urn:p:a',
        asset: 'USDC',
        feeMinor: 100n,
        credits: [{ accountId: 'contributor:x', amountMinor: 60n }],
      },
    ];
    const report = computeBacking(facts, new Map([[balanceKey('contributor:x', 'USDC'), 60n]]));
    const result = reconcileFunding(report.assets, report.producers, cashOf(60n, 0n));
    expect(result.lines).toEqual([
      expect.objectContaining({ netDepositsMinor: 0n, debtMinor: 60n, settledMinor: 60n, holds: true }),
    ]);
    expect(result.problems).toEqual([]);
  });

  it('fails when the cash disagrees with the ledger accounts', () => {
    const report = computeBacking([]);
    const cash: PayoutCash[] = [
      { asset: 'USDC', settledMinor: 5n, inFlightMinor: 0n, settlementAccountsMinor: 4n, inFlightAccountMinor: 1n },
    ];
    expect(reconcileFunding(report.assets, report.producers, cash).problems).toEqual([
      'USDC: net deposits 0 + debt 0 = 0, but settled + in flight + backed unpaid + treasury remainder + prepaid = 5',
      'USDC: settled payouts sum to 5 but the settlement accounts hold 4',
      'USDC: reserved payouts sum to 0 but clearing:payouts-in-flight holds 1',
    ]);
  });
});
