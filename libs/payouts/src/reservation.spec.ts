// Proves the binding between the ledger's reservation and the rail: a payout moves on to its rail only
// when the ledger reserved exactly what was planned (account, asset, amount, epoch); any other row ends
// it REFUSED with a reason naming the first field that differs, and no rail attempt can follow.
import fc from 'fast-check';
import { appliedAsPlanned, reservationMismatch, type PayoutTerms } from './reservation';
import {
  evolveSaga,
  isTerminal,
  PLANNED_SAGA,
  SagaTransitionError,
  type RetryPolicy,
  type SagaObservation,
  type SagaState,
} from './saga';

const policy: RetryPolicy = { attemptsMax: 3, backoffBaseMs: 100, backoffMaxMs: 250, totalMsMax: 10_000 };
const plan: PayoutTerms = { accountId: 'contributor:alice', asset: 'USDC', amountMinor: 1_000n, epoch: 7 };
const requested: SagaState = { ...PLANNED_SAGA, status: 'REQUESTED' };
const observe = (ledger: PayoutTerms, from: SagaState = requested) =>
  evolveSaga(from, { type: 'LedgerReserved', plan, ledger }, policy);

describe('the ledger reservation of a payout', () => {
  describe('given a requested payout', () => {
    it('when the ledger reserved exactly the plan, then the payout goes on to its rail', () => {
      expect(observe({ ...plan })).toMatchObject({ status: 'SETTLING', failureReason: null });
    });

    it.each<[keyof PayoutTerms, PayoutTerms, string]>([
      ['amountMinor', { ...plan, amountMinor: 1n }, 'amountMinor: the ledger reserved 1, the plan is 1000'],
      [
        'accountId',
        { ...plan, accountId: 'contributor:mallory' },
        'accountId: the ledger reserved "contributor:mallory", the plan is "contributor:alice"',
      ],
      ['asset', { ...plan, asset: 'USDT' }, 'asset: the ledger reserved "USDT", the plan is "USDC"'],
      ['epoch', { ...plan, epoch: 6 }, 'epoch: the ledger reserved 6, the plan is 7'],
    ])(
      'when the ledger reserved a different %s, then the payout is REFUSED, naming it, and cannot be attempted',
      (_field, ledger, reason) => {
        const state = observe(ledger);
        expect(state).toMatchObject({ status: 'REFUSED', failureReason: expect.stringContaining(reason) });
        expect(isTerminal(state.status)).toBe(true);
        expect(() => evolveSaga(state, { type: 'AttemptStarted', nowMs: 0 }, policy)).toThrow(SagaTransitionError);
      },
    );

    it('when several fields differ, then the reason names the first in account, asset, amount, epoch order', () => {
      expect(reservationMismatch(plan, { accountId: 'x', asset: 'y', amountMinor: 1n, epoch: 1 })?.field).toBe(
        'accountId',
      );
      expect(reservationMismatch(plan, { ...plan, amountMinor: 2n, epoch: 1 })?.field).toBe('amountMinor');
      expect(reservationMismatch(plan, { ...plan })).toBeNull();
    });
  });

  describe('given a planned payout (the ledger already holds a row under its id)', () => {
    it('when that row differs from the plan, then it is REFUSED before its own request is even published', () => {
      expect(observe({ ...plan, amountMinor: 1n }, PLANNED_SAGA).status).toBe('REFUSED');
    });
  });

  describe('given a payout past the ledger step', () => {
    it('when the ledger is observed again, then that is a transition error, not a second decision', () => {
      const settling = observe({ ...plan });
      expect(() => observe({ ...plan, amountMinor: 1n }, settling)).toThrow(SagaTransitionError);
      expect(() => observe({ ...plan }, observe({ ...plan, amountMinor: 1n }))).toThrow(SagaTransitionError);
    });
  });

  it('calls the rail only when the ledger row equals the plan, whatever the row (property)', () => {
    const near = <T>(value: T, other: fc.Arbitrary<T>) => fc.oneof(fc.constant(value), other);
    const ledgerRow = fc.record({
      accountId: near(plan.accountId, fc.string({ maxLength: 20 })),
      asset: near(plan.asset, fc.constantFrom('USDC', 'USDT', 'usdc', 'USDC ', '')),
      amountMinor: near(plan.amountMinor, fc.bigInt({ min: 1n, max: 10_000n })),
      epoch: near(plan.epoch, fc.integer({ min: 0, max: 20 })),
    });
    const later = fc.array(
      fc.oneof(
        fc.constant<SagaObservation>({ type: 'RequestPublished' }),
        fc.nat({ max: 1_000 }).map<SagaObservation>((nowMs) => ({ type: 'AttemptStarted', nowMs })),
        fc.constant<SagaObservation>({ type: 'AttemptSucceeded', reference: 'r' }),
        fc
          .nat({ max: 1_000 })
          .map<SagaObservation>((nowMs) => ({ type: 'AttemptFailed', definite: false, reason: 'no', nowMs })),
        fc.constant<SagaObservation>({ type: 'EndPublished' }),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(fc.boolean(), ledgerRow, later, (published, ledger, observations) => {
        const equal =
          ledger.accountId === plan.accountId &&
          ledger.asset === plan.asset &&
          ledger.amountMinor === plan.amountMinor &&
          ledger.epoch === plan.epoch;
        let state = observe(ledger, published ? requested : PLANNED_SAGA);
        expect(state.status).toBe(equal ? 'SETTLING' : 'REFUSED');
        let railCalls = 0;
        for (const observation of observations) {
          try {
            state = evolveSaga(state, observation, policy);
            if (observation.type === 'AttemptStarted') railCalls += 1;
          } catch (error) {
            expect(error).toBeInstanceOf(SagaTransitionError);
          }
        }
        if (!equal) {
          expect(railCalls).toBe(0);
          expect(state.status).toBe('REFUSED');
        }
      }),
    );
  });
});

describe('an epoch close looking at what the ledger applied', () => {
  it('counts a plan as applied only when the ledger row under its id equals it', () => {
    expect(appliedAsPlanned(plan, { ...plan })).toBe(true);
    expect(appliedAsPlanned(plan, null)).toBe(false);
    expect(appliedAsPlanned(plan, { ...plan, amountMinor: 1n })).toBe(false);
    expect(appliedAsPlanned(plan, { ...plan, accountId: 'contributor:mallory' })).toBe(false);
  });

  it('agrees with the saga: applied exactly when the saga would let the payout reach its rail (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          accountId: fc.constantFrom(plan.accountId, 'x'),
          asset: fc.constantFrom(plan.asset, 'EUR'),
          amountMinor: fc.constantFrom(plan.amountMinor, 1n, 999n),
          epoch: fc.constantFrom(plan.epoch, 0),
        }),
        (ledger) => expect(appliedAsPlanned(plan, ledger)).toBe(observe(ledger).status === 'SETTLING'),
      ),
    );
  });
});
