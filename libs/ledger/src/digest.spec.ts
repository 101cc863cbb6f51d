// The digest over per-producer totals: left out (the digest as before) when absent or all zero, the
// same whatever the row order, and different when any one total differs.
import { ledgerDigest, type ProducerCreditTotal, type ProducerFundingTotals } from './digest';

const balances = [{ account: 'contributor:a', asset: 'USDC', balanceMinor: 10n }];
const heads = [{ sourceTopic: 't', sourcePartition: 0, chainSeq: 3n, hash: Buffer.alloc(32, 1) }];
const funding: ProducerFundingTotals[] = [
  {
    producer: 'urn:p:a',
    asset: 'USDC',
    feesMinor: 100n,
    creditedMinor: 100n,
    depositsMinor: 60n,
    chargebacksMinor: 10n,
  },
  { producer: '', asset: 'USDC', feesMinor: 5n, creditedMinor: 5n, depositsMinor: 0n, chargebacksMinor: 0n },
];
const credits: ProducerCreditTotal[] = [
  { account: 'contributor:a', producer: 'urn:p:a', asset: 'USDC', creditedMinor: 70n },
  { account: 'contributor:a', producer: '', asset: 'USDC', creditedMinor: 5n },
];

describe('ledgerDigest with producer totals', () => {
  it('is the digest of balances and heads alone when there are none, or none that is not zero', () => {
    const plain = ledgerDigest(balances, heads);
    expect(ledgerDigest(balances, heads, { funding: [], credits: [] })).toBe(plain);
    expect(
      ledgerDigest(balances, heads, {
        funding: [
          { producer: 'p', asset: 'USDC', feesMinor: 0n, creditedMinor: 0n, depositsMinor: 0n, chargebacksMinor: 0n },
        ],
        credits: [{ account: 'x:y', producer: 'p', asset: 'USDC', creditedMinor: 0n }],
      }),
    ).toBe(plain);
    expect(ledgerDigest(balances, heads, { funding, credits })).not.toBe(plain);
  });

  it('does not depend on the order of the rows', () => {
    expect(ledgerDigest(balances, heads, { funding: [...funding].reverse(), credits: [...credits].reverse() })).toBe(
      ledgerDigest(balances, heads, { funding, credits }),
    );
  });

  it('changes when any total changes, or moves to another producer', () => {
    const digest = ledgerDigest(balances, heads, { funding, credits });
    for (const field of ['feesMinor', 'creditedMinor', 'depositsMinor', 'chargebacksMinor'] as const) {
      expect(
        ledgerDigest(balances, heads, {
          funding: [{ ...funding[0]!, [field]: funding[0]![field] + 1n }, funding[1]!],
          credits,
        }),
      ).not.toBe(digest);
    }
    expect(
      ledgerDigest(balances, heads, { funding, credits: [{ ...credits[0]!, producer: 'urn:p:b' }, credits[1]!] }),
    ).not.toBe(digest);
    expect(
      ledgerDigest(balances, heads, { funding, credits: [{ ...credits[0]!, creditedMinor: 71n }, credits[1]!] }),
    ).not.toBe(digest);
  });
});
