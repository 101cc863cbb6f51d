// The ledger keeps running totals, not every fact: the backing computed from the totals must equal the
// backing computed from the facts they sum, whatever the facts (property).
import fc from 'fast-check';
import { computeBacking, type BackingFact } from './backing';
import { backingFactsFromTotals, type ProducerCreditTotal, type ProducerFundingTotals } from './backing-totals';

const producers = ['urn:p:a', 'urn:p:b'];
const accounts = ['contributor:x', 'contributor:y', 'model-owner:m'];

const decision = fc
  .record({
    producer: fc.constantFrom(...producers),
    credits: fc.array(
      fc.record({ accountId: fc.constantFrom(...accounts), amountMinor: fc.bigInt({ min: 0n, max: 1_000n }) }),
      { maxLength: 3 },
    ),
    extraFee: fc.bigInt({ min: 0n, max: 500n }),
  })
  .map(({ producer, credits, extraFee }): BackingFact => ({
    producer,
    asset: 'USDC',
    feeMinor: credits.reduce((sum, c) => sum + c.amountMinor, 0n) + extraFee,
    credits,
  }));
const funding = fc
  .record({
    producer: fc.constantFrom(...producers),
    amountMinor: fc.bigInt({ min: 0n, max: 3_000n }),
    kind: fc.constantFrom('deposit' as const, 'chargeback' as const),
  })
  .map((f): BackingFact => ({ ...f, asset: 'USDC' }));

function totalsOf(facts: readonly BackingFact[]) {
  const funding = new Map<string, { fees: bigint; deposits: bigint; chargebacks: bigint }>();
  const credits = new Map<string, bigint>();
  for (const fact of facts) {
    const entry = funding.get(fact.producer) ?? { fees: 0n, deposits: 0n, chargebacks: 0n };
    if ('kind' in fact) {
      if (fact.kind === 'deposit') entry.deposits += fact.amountMinor;
      else entry.chargebacks += fact.amountMinor;
    } else {
      entry.fees += fact.feeMinor;
      for (const credit of fact.credits)
        credits.set(
          `${credit.accountId} ${fact.producer}`,
          (credits.get(`${credit.accountId} ${fact.producer}`) ?? 0n) + credit.amountMinor,
        );
    }
    funding.set(fact.producer, entry);
  }
  const fundingRows: ProducerFundingTotals[] = [...funding].map(([producer, t]) => ({
    producer,
    asset: 'USDC',
    feesMinor: t.fees,
    depositsMinor: t.deposits,
    chargebacksMinor: t.chargebacks,
  }));
  const creditRows: ProducerCreditTotal[] = [...credits].map(([key, creditedMinor]) => ({
    accountId: key.split(' ')[0]!,
    producer: key.split(' ')[1]!,
    asset: 'USDC',
    creditedMinor,
  }));
  return { fundingRows, creditRows };
}

describe('backing from the ledger totals', () => {
  it('equals the backing from the facts the totals sum (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(decision, funding), { maxLength: 30 }), (facts) => {
        const { fundingRows, creditRows } = totalsOf(facts);
        const fromTotals = computeBacking(backingFactsFromTotals(fundingRows, creditRows));
        const fromFacts = computeBacking(facts);
        const strip = (report: ReturnType<typeof computeBacking>) =>
          report.accounts.map(({ accountId, backedMinor, payableMinor, pendingFundingMinor }) => ({
            accountId,
            backedMinor,
            payableMinor,
            pendingFundingMinor,
          }));
        expect(strip(fromTotals)).toEqual(strip(fromFacts));
        expect(fromTotals.assets).toEqual(fromFacts.assets);
      }),
    );
  });

  it('refuses credits of a producer with no fee totals, naming the field', () => {
    expect(() =>
      backingFactsFromTotals(
        [],
        [{ accountId: 'contributor:x', producer: 'urn:p:a', asset: 'USDC', creditedMinor: 1n }],
      ),
    ).toThrow('credits: urn:p:a in USDC has credits but no fee totals');
  });
});
