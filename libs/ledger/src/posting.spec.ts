// Proves the double-entry rule: a transaction balances only when its postings sum to zero in every asset,
// checked on examples and on arbitrary generated postings with fast-check.
import fc from 'fast-check';
import { assertBalanced, sumPerAsset, UnbalancedTransactionError } from './posting';

describe('a ledger transaction', () => {
  describe('whose postings sum to zero per asset', () => {
    it('is balanced, even when two assets each balance on their own', () => {
      expect(() =>
        assertBalanced([
          { account: 'consumer:c1', asset: 'USDC', amountMinor: -100n },
          { account: 'protocol', asset: 'USDC', amountMinor: 100n },
          { account: 'consumer:c1', asset: 'EURC', amountMinor: -7n },
          { account: 'protocol', asset: 'EURC', amountMinor: 7n },
        ]),
      ).not.toThrow();
    });
  });

  describe('whose postings balance overall but not per asset', () => {
    it('is refused, naming the asset and its sum', () => {
      const postings = [
        { account: 'consumer:c1', asset: 'USDC', amountMinor: -100n },
        { account: 'protocol', asset: 'EURC', amountMinor: 100n },
      ];
      expect(() => assertBalanced(postings)).toThrow(UnbalancedTransactionError);
      expect(() => assertBalanced(postings)).toThrow('postings in USDC sum to -100');
    });
  });

  it('balances whenever a debit equal to the credits is added (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 2n ** 62n }), { minLength: 1, maxLength: 50 }), (credits) => {
        const postings = credits.map((amountMinor, index) => ({ account: `a${index}`, asset: 'USDC', amountMinor }));
        const total = credits.reduce((sum, amount) => sum + amount, 0n);
        assertBalanced([...postings, { account: 'consumer', asset: 'USDC', amountMinor: -total }]);
        expect(sumPerAsset(postings).get('USDC')).toBe(total);
      }),
    );
  });
});
