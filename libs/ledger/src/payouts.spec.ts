// Proves the payout rules as a pure fold: a request reserves the amount in clearing, settlement moves it
// out to the rail, failure returns it, every transaction balances, and (property, fast-check) no sequence
// of requests ever takes a payable balance below zero: the overdrawing ones are refused, not trimmed.
import fc from 'fast-check';
import {
  balanceKey,
  foldPayouts,
  PAYOUTS_IN_FLIGHT_ACCOUNT,
  PayoutRejectedError,
  sumPerAsset,
  type PayoutEvent,
} from './index';

const account = 'contributor:ana';
const requested = (payoutId: string, amountMinor: bigint): PayoutEvent => ({
  type: 'PayoutRequested',
  eventId: `r-${payoutId}`,
  payoutId,
  account,
  asset: 'USDC',
  amountMinor,
  epoch: 1,
});
const balances = new Map([[balanceKey(account, 'USDC'), 100n]]);

describe('an account with a payable balance of 100', () => {
  it('reserves a request of 60 in clearing, then settles it out to the rail', () => {
    const [request, settle] = foldPayouts(
      [
        requested('p1', 60n),
        { type: 'PayoutSettled', eventId: 's-p1', payoutId: 'p1', account, rail: 'ach', reference: 'tx-1' },
      ],
      balances,
      new Map(),
    );
    expect(request).not.toBeInstanceOf(Error);
    expect((request as { transaction: { postings: unknown } }).transaction.postings).toEqual([
      { account, asset: 'USDC', amountMinor: -60n },
      { account: PAYOUTS_IN_FLIGHT_ACCOUNT, asset: 'USDC', amountMinor: 60n },
    ]);
    expect((settle as { transaction: { postings: unknown } }).transaction.postings).toEqual([
      { account: PAYOUTS_IN_FLIGHT_ACCOUNT, asset: 'USDC', amountMinor: -60n },
      { account: 'settlement:ach', asset: 'USDC', amountMinor: 60n },
    ]);
  });

  it('returns a failed payout to the account, after which the amount can be requested again', () => {
    const results = foldPayouts(
      [
        requested('p1', 100n),
        { type: 'PayoutFailed', eventId: 'f-p1', payoutId: 'p1', account, reason: 'bank closed' },
        requested('p2', 100n),
      ],
      balances,
      new Map(),
    );
    expect(results.every((result) => !(result instanceof Error))).toBe(true);
  });

  it('refuses a second request that would overdraw, naming the field and the balance', () => {
    const [, second] = foldPayouts([requested('p1', 60n), requested('p2', 41n)], balances, new Map());
    expect(second).toBeInstanceOf(PayoutRejectedError);
    expect((second as PayoutRejectedError).rule).toBe('overdraft');
    expect((second as Error).message).toBe('amountMinor: 41 exceeds the payable balance 40 of contributor:ana in USDC');
  });

  it('refuses settling an unknown payout and settling one twice', () => {
    const settle = (eventId: string): PayoutEvent => ({
      type: 'PayoutSettled',
      eventId,
      payoutId: 'p1',
      account,
      rail: 'ach',
      reference: 'x',
    });
    const results = foldPayouts([settle('s0'), requested('p1', 1n), settle('s1'), settle('s2')], balances, new Map());
    expect(results.map((result) => (result instanceof PayoutRejectedError ? result.rule : 'ok'))).toEqual([
      'unknown-payout',
      'ok',
      'ok',
      'payout-not-in-flight',
    ]);
  });
});

describe('any sequence of payout events (property)', () => {
  it('never takes the payable balance below zero and balances every transaction', () => {
    const event = fc.oneof(
      fc.record({
        kind: fc.constant('request' as const),
        id: fc.integer({ min: 0, max: 5 }),
        amountMinor: fc.bigInt({ min: 1n, max: 80n }),
      }),
      fc.record({
        kind: fc.constantFrom('settle' as const, 'fail' as const),
        id: fc.integer({ min: 0, max: 5 }),
        amountMinor: fc.constant(0n),
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 200n }), fc.array(event, { maxLength: 30 }), (startMinor, steps) => {
        const events: PayoutEvent[] = steps.map((step, index) =>
          step.kind === 'request'
            ? {
                type: 'PayoutRequested',
                eventId: `e${index}`,
                payoutId: `p${step.id}`,
                account,
                asset: 'USDC',
                amountMinor: step.amountMinor,
                epoch: 0,
              }
            : step.kind === 'settle'
              ? {
                  type: 'PayoutSettled',
                  eventId: `e${index}`,
                  payoutId: `p${step.id}`,
                  account,
                  rail: 'ach',
                  reference: 'r',
                }
              : { type: 'PayoutFailed', eventId: `e${index}`, payoutId: `p${step.id}`, account, reason: 'r' },
        );
        let balanceMinor = startMinor;
        for (const result of foldPayouts(events, new Map([[balanceKey(account, 'USDC'), startMinor]]), new Map())) {
          if (result instanceof Error) continue;
          expect(sumPerAsset(result.transaction.postings).get('USDC')).toBe(0n);
          for (const posting of result.transaction.postings)
            if (posting.account === account) balanceMinor += posting.amountMinor;
          expect(balanceMinor >= 0n).toBe(true);
        }
      }),
    );
  });
});
