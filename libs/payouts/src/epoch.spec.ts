// Proves the epoch computation of payouts: amounts never exceed balances, thresholds are respected,
// consumers are never paid, and the same input always gives the same payouts with the same ids,
// on examples and on generated balances with fast-check.
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { capToBacked } from './payable';
import {
  computeEpochPayouts,
  DEFAULT_THRESHOLDS,
  PAYOUT_AMOUNT_MAX,
  payoutIdOf,
  type PayableBalance,
  type PayoutThresholds,
} from './epoch';

const KEY = randomBytes(32);

const thresholds: PayoutThresholds = {
  defaultMinor: { contributor: 100n, 'model-owner': 50n, 'datanet-owner': 50n, protocol: 1n },
  perAssetMinor: { EURC: { contributor: 500n } },
};

const balanceArbitrary = fc.record({
  accountId: fc.constantFrom(
    'contributor:a',
    'contributor:b',
    'model-owner:m',
    'datanet-owner:d',
    'protocol:p',
    'consumer:c',
    'nonsense',
  ),
  asset: fc.constantFrom('USDC', 'EURC'),
  // Balances are sums: they may pass what one payout event can carry.
  payableMinor: fc.bigInt({ min: -(2n ** 64n), max: 2n ** 65n }),
});

describe('closing an epoch', () => {
  describe('given balances around the thresholds', () => {
    it('pays each account at or above its role threshold exactly its balance, in a stable order', () => {
      const balances: PayableBalance[] = [
        { accountId: 'model-owner:m', asset: 'USDC', payableMinor: 50n },
        { accountId: 'contributor:b', asset: 'USDC', payableMinor: 99n },
        { accountId: 'contributor:a', asset: 'USDC', payableMinor: 100n },
        { accountId: 'contributor:a', asset: 'EURC', payableMinor: 499n },
        { accountId: 'consumer:c', asset: 'USDC', payableMinor: 1_000n },
      ];
      expect(computeEpochPayouts(7, balances, KEY, thresholds)).toEqual([
        {
          payoutId: payoutIdOf(KEY, 7, 'contributor:a', 'USDC'),
          accountId: 'contributor:a',
          asset: 'USDC',
          amountMinor: 100n,
          epoch: 7,
        },
        {
          payoutId: payoutIdOf(KEY, 7, 'model-owner:m', 'USDC'),
          accountId: 'model-owner:m',
          asset: 'USDC',
          amountMinor: 50n,
          epoch: 7,
        },
      ]);
    });
  });

  describe('given a balance larger than one payout event can carry', () => {
    it('pays the most an event carries now and leaves the rest for the next epoch', () => {
      const [payout] = computeEpochPayouts(
        3,
        [{ accountId: 'contributor:a', asset: 'USDC', payableMinor: 2n ** 64n }],
        KEY,
        thresholds,
      );
      expect(payout?.amountMinor).toBe(2n ** 63n - 1n);
    });
  });

  describe('given an invalid epoch', () => {
    it.each([-1, 1.5, 2 ** 31])('refuses epoch %p, naming the field', (epoch) => {
      expect(() => computeEpochPayouts(epoch, [], KEY)).toThrow('epoch: must be an integer');
    });
  });

  it('never pays more than a balance, never a consumer, never below a threshold (property)', () => {
    fc.assert(
      fc.property(fc.array(balanceArbitrary, { maxLength: 40 }), fc.nat({ max: 1_000 }), (balances, epoch) => {
        for (const payout of computeEpochPayouts(epoch, balances, KEY, thresholds)) {
          const source = balances.find(
            (balance) =>
              balance.accountId === payout.accountId &&
              balance.asset === payout.asset &&
              payout.amountMinor ===
                (balance.payableMinor > PAYOUT_AMOUNT_MAX ? PAYOUT_AMOUNT_MAX : balance.payableMinor),
          );
          expect(source).toBeDefined();
          expect(payout.amountMinor).toBeLessThanOrEqual(PAYOUT_AMOUNT_MAX);
          expect(payout.amountMinor).toBeGreaterThanOrEqual(1n);
          expect(payout.accountId.startsWith('consumer:')).toBe(false);
          const role = payout.accountId.split(':')[0] as keyof typeof thresholds.defaultMinor;
          const threshold = thresholds.perAssetMinor?.[payout.asset]?.[role] ?? thresholds.defaultMinor[role];
          expect(payout.amountMinor).toBeGreaterThanOrEqual(threshold);
        }
      }),
    );
  });

  it('gives the same payouts and ids for the same input, whatever the order of the balances (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(balanceArbitrary, {
          selector: (balance) => `${balance.accountId}/${balance.asset}`,
          maxLength: 14,
        }),
        fc.nat({ max: 1_000 }),
        (balances, epoch) => {
          const once = computeEpochPayouts(epoch, balances, KEY, DEFAULT_THRESHOLDS);
          expect(computeEpochPayouts(epoch, [...balances].reverse(), KEY, DEFAULT_THRESHOLDS)).toEqual(once);
          expect(new Set(once.map((payout) => payout.payoutId)).size).toBe(once.length);
        },
      ),
    );
  });

  it('gives every (epoch, account, asset) its own payout id of at most 256 characters', () => {
    expect(payoutIdOf(KEY, 1, 'contributor:a', 'USDC')).not.toBe(payoutIdOf(KEY, 2, 'contributor:a', 'USDC'));
    expect(payoutIdOf(KEY, 1, 'contributor:a', 'USDC')).not.toBe(payoutIdOf(KEY, 1, 'contributor:a', 'EURC'));
    expect(payoutIdOf(KEY, 1, `contributor:${'x'.repeat(300)}`, 'USDC').length).toBeLessThanOrEqual(256);
  });

  it('makes ids nobody can compute from the public inputs alone: another key, another id', () => {
    // What an outsider knows (epoch, account, asset) is not enough: the key is drawn at each close.
    expect(payoutIdOf(randomBytes(32), 1, 'contributor:a', 'USDC')).not.toBe(
      payoutIdOf(KEY, 1, 'contributor:a', 'USDC'),
    );
    expect(() => payoutIdOf(Buffer.alloc(16), 1, 'contributor:a', 'USDC')).toThrow('idKey: must be at least 32 bytes');
  });
});

describe('payable capped to what deposits back', () => {
  const key = (accountId: string, asset: string) => `${accountId} ${asset}`;
  const payable = [
    { accountId: 'contributor:a', asset: 'USDC', payableMinor: 1_000n },
    { accountId: 'contributor:b', asset: 'USDC', payableMinor: 1_000n },
    { accountId: 'contributor:c', asset: 'USDC', payableMinor: 300n },
  ];

  it('pays the backed part of a balance, nothing of an unbacked one, never more than the balance', () => {
    const backed = new Map([
      [key('contributor:a', 'USDC'), 400n],
      [key('contributor:c', 'USDC'), 900n],
    ]);
    expect(capToBacked(payable, backed, key).map((balance) => balance.payableMinor)).toEqual([400n, 0n, 300n]);
  });
});
