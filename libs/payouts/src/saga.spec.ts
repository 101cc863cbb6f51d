// Proves the settlement saga's rules as specifications and fast-check properties: a payout is only
// attempted after the ledger reserved it, retries are bounded by attempts and total time with a
// capped exponential backoff, an unknown outcome never returns money to payable (it waits for
// reconciliation), terminal states never move, and a settled payout can never also fail;
// and that payable balances less unapplied requests never exceed the ledger's balance.
import fc from 'fast-check';
import {
  evolveSaga,
  isTerminal,
  PLANNED_SAGA,
  retryDelayMs,
  SagaTransitionError,
  type RetryPolicy,
  type SagaObservation,
  type SagaState,
} from './saga';
import { payableBalances } from './payable';

const policy: RetryPolicy = { attemptsMax: 3, backoffBaseMs: 100, backoffMaxMs: 250, totalMsMax: 10_000 };

const run = (observations: SagaObservation[], from: SagaState = PLANNED_SAGA) =>
  observations.reduce((state, observation) => evolveSaga(state, observation, policy), from);
const terms = { accountId: 'contributor:a', asset: 'USDC', amountMinor: 100n, epoch: 1 };
const reserved: SagaObservation = { type: 'LedgerReserved', plan: terms, ledger: { ...terms } };
const settling = () => run([{ type: 'RequestPublished' }, reserved]);

describe('a payout saga', () => {
  describe('given a planned payout', () => {
    it('cannot be attempted before the ledger reserved it', () => {
      expect(() => run([{ type: 'AttemptStarted', nowMs: 0 }])).toThrow(SagaTransitionError);
      expect(() => run([{ type: 'RequestPublished' }, { type: 'AttemptStarted', nowMs: 0 }])).toThrow(
        'saga: AttemptStarted is not allowed in state REQUESTED',
      );
    });

    it('ends REFUSED, with nothing to pay, when the ledger refused the request', () => {
      const state = run([{ type: 'RequestPublished' }, { type: 'LedgerRefused', reason: 'overdraft' }]);
      expect(state.status).toBe('REFUSED');
      expect(isTerminal(state.status)).toBe(true);
    });
  });

  describe('given a reserved payout', () => {
    it('settles on the first success and ends once its PayoutSettled is published', () => {
      const state = run(
        [
          { type: 'AttemptStarted', nowMs: 5 },
          { type: 'AttemptSucceeded', reference: 'tx-1' },
          { type: 'EndPublished' },
        ],
        settling(),
      );
      expect(state).toMatchObject({ status: 'SETTLED', attempts: 1, reference: 'tx-1', firstAttemptAtMs: 5 });
    });

    it('retries after a backoff, then recovers', () => {
      const failed = run(
        [
          { type: 'AttemptStarted', nowMs: 0 },
          { type: 'AttemptFailed', reason: 'HTTP 503', definite: false, nowMs: 10 },
        ],
        settling(),
      );
      expect(failed).toMatchObject({
        status: 'SETTLING',
        attempts: 1,
        nextAttemptAtMs: 110,
        failureReason: 'HTTP 503',
      });
      const recovered = run(
        [
          { type: 'AttemptStarted', nowMs: 110 },
          { type: 'AttemptSucceeded', reference: 'r' },
        ],
        failed,
      );
      expect(recovered.status).toBe('CONFIRMED');
    });

    it('after attemptsMax attempts with no definite answer, waits NEEDS_RECONCILIATION: never FAILED, nothing returns to payable', () => {
      let state = settling();
      for (let attempt = 0; attempt < policy.attemptsMax; attempt += 1) {
        state = run(
          [
            { type: 'AttemptStarted', nowMs: attempt * 300 },
            { type: 'AttemptFailed', reason: 'HTTP 500', definite: false, nowMs: attempt * 300 + 1 },
          ],
          state,
        );
      }
      expect(state).toMatchObject({ status: 'NEEDS_RECONCILIATION', attempts: 3 });
      expect(state.failureReason).toContain('no definite answer after 3 attempts: HTTP 500');
      expect(state.nextAttemptAtMs).toBe(601 + 250); // first status query one (capped) backoff later
      expect(isTerminal(state.status)).toBe(false);
      expect(() => run([{ type: 'EndPublished' }], state)).toThrow(SagaTransitionError);
      expect(() => run([{ type: 'AttemptStarted', nowMs: 5_000 }], state)).toThrow(SagaTransitionError);
    });

    it('waits NEEDS_RECONCILIATION when the next retry would pass the total time bound', () => {
      const state = run(
        [
          { type: 'AttemptStarted', nowMs: 0 },
          { type: 'AttemptFailed', reason: 'timeout', definite: false, nowMs: 9_950 },
        ],
        settling(),
      );
      expect(state.status).toBe('NEEDS_RECONCILIATION');
      expect(state.failureReason).toContain('limit 10000 ms');
    });

    it('ends FAILED at once when the rail definitely refused: that alone returns the amount to payable', () => {
      const state = run(
        [
          { type: 'AttemptStarted', nowMs: 0 },
          { type: 'AttemptFailed', reason: 'account closed', definite: true, nowMs: 1 },
        ],
        settling(),
      );
      expect(state).toMatchObject({ status: 'ABANDONED', attempts: 1 });
      expect(state.failureReason).toContain('the rail refused the payout: account closed');
      expect(run([{ type: 'EndPublished' }], state).status).toBe('FAILED');
    });
  });

  describe('given a payout waiting for reconciliation', () => {
    const waiting = () => {
      let state = settling();
      for (let attempt = 0; attempt < policy.attemptsMax; attempt += 1) {
        state = run(
          [
            { type: 'AttemptStarted', nowMs: attempt },
            { type: 'AttemptFailed', reason: 'timeout', definite: false, nowMs: attempt },
          ],
          state,
        );
      }
      return state;
    };

    it('settles on a definite "paid", with the rail\'s reference', () => {
      const state = run([{ type: 'Reconciled', outcome: 'paid', detail: 'tx-9' }, { type: 'EndPublished' }], waiting());
      expect(state).toMatchObject({ status: 'SETTLED', reference: 'tx-9' });
    });

    it('fails on a definite "refused", which alone returns the amount to payable', () => {
      const state = run([{ type: 'Reconciled', outcome: 'refused', detail: 'never received' }], waiting());
      expect(state.status).toBe('ABANDONED');
      expect(state.failureReason).toContain('never received');
      expect(run([{ type: 'EndPublished' }], state).status).toBe('FAILED');
    });

    it('keeps waiting, and asks again later, while the answer is still unknown', () => {
      const state = run([{ type: 'StatusUnknown', reason: 'HTTP 503', nextQueryAtMs: 60_000 }], waiting());
      expect(state).toMatchObject({ status: 'NEEDS_RECONCILIATION', nextAttemptAtMs: 60_000 });
    });

    it('moves exactly once: a second answer is refused', () => {
      const settled = run([{ type: 'Reconciled', outcome: 'paid', detail: 'tx-9' }], waiting());
      expect(() => run([{ type: 'Reconciled', outcome: 'refused', detail: 'late' }], settled)).toThrow(
        SagaTransitionError,
      );
    });

    it('cannot be reconciled before it needs it', () => {
      expect(() => run([{ type: 'Reconciled', outcome: 'paid', detail: 'x' }], settling())).toThrow(
        SagaTransitionError,
      );
    });
  });

  describe('given an ended payout', () => {
    it.each<SagaObservation>([
      { type: 'RequestPublished' },
      reserved,
      { type: 'AttemptStarted', nowMs: 0 },
      { type: 'AttemptFailed', reason: 'x', definite: false, nowMs: 0 },
      { type: 'Reconciled', outcome: 'paid', detail: 'x' },
      { type: 'AttemptSucceeded', reference: 'x' },
      { type: 'EndPublished' },
    ])('refuses %p once settled', (observation) => {
      const settled = run(
        [{ type: 'AttemptStarted', nowMs: 0 }, { type: 'AttemptSucceeded', reference: 'r' }, { type: 'EndPublished' }],
        settling(),
      );
      expect(() => evolveSaga(settled, observation, policy)).toThrow(SagaTransitionError);
    });
  });

  it('never starts more than attemptsMax attempts, never settles and fails the same payout, whatever the observations (property)', () => {
    const observation = fc.oneof(
      fc.constant<SagaObservation>({ type: 'RequestPublished' }),
      fc.constant<SagaObservation>(reserved),
      fc.constant<SagaObservation>({ type: 'LedgerRefused', reason: 'dlq' }),
      fc.nat({ max: 100_000 }).map<SagaObservation>((nowMs) => ({ type: 'AttemptStarted', nowMs })),
      fc.constant<SagaObservation>({ type: 'AttemptSucceeded', reference: 'ref' }),
      fc
        .nat({ max: 100_000 })
        .map<SagaObservation>((nowMs) => ({ type: 'AttemptFailed', reason: 'no', definite: nowMs % 7 === 0, nowMs })),
      fc.constantFrom<SagaObservation>(
        { type: 'Reconciled', outcome: 'paid', detail: 'tx' },
        { type: 'Reconciled', outcome: 'refused', detail: 'no' },
        { type: 'StatusUnknown', reason: '?', nextQueryAtMs: 1 },
      ),
      fc.constant<SagaObservation>({ type: 'EndPublished' }),
    );
    fc.assert(
      fc.property(fc.array(observation, { maxLength: 60 }), (observations) => {
        let state = PLANNED_SAGA;
        const seen = new Set<string>();
        for (const next of observations) {
          try {
            state = evolveSaga(state, next, policy);
          } catch (error) {
            expect(error).toBeInstanceOf(SagaTransitionError);
          }
          seen.add(state.status);
          expect(state.attempts).toBeLessThanOrEqual(policy.attemptsMax);
        }
        expect(seen.has('SETTLED') && seen.has('FAILED')).toBe(false);
        // An amount returns to payable only through FAILED, and only after a definite refusal.
        if (seen.has('NEEDS_RECONCILIATION') && seen.has('FAILED')) expect(state.failureReason).toMatch(/refused/);
        expect((seen.has('CONFIRMED') || seen.has('SETTLED')) && (seen.has('ABANDONED') || seen.has('REFUSED'))).toBe(
          false,
        );
      }),
    );
  });

  it('backs off exponentially, never beyond backoffMaxMs, never shorter than before (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 200 }),
        (baseMs, capMs, failed) => {
          const retry: RetryPolicy = { attemptsMax: 200, backoffBaseMs: baseMs, backoffMaxMs: capMs, totalMsMax: 1 };
          const delayMs = retryDelayMs(failed, retry);
          expect(delayMs).toBeLessThanOrEqual(capMs);
          expect(delayMs).toBeGreaterThanOrEqual(Math.min(baseMs, capMs));
          expect(retryDelayMs(failed + 1, retry)).toBeGreaterThanOrEqual(delayMs);
        },
      ),
    );
  });
});

describe('payable balances at an epoch close', () => {
  it('subtract requests the ledger has not applied, and never exceed the ledger balance (property)', () => {
    const account = fc.constantFrom('contributor:a', 'contributor:b', 'model-owner:m');
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            accountId: account,
            asset: fc.constant('USDC'),
            payableMinor: fc.bigInt({ min: -1_000n, max: 1_000_000n }),
          }),
          { selector: (b) => b.accountId },
        ),
        fc.array(
          fc.record({
            accountId: account,
            asset: fc.constant('USDC'),
            amountMinor: fc.bigInt({ min: 0n, max: 1_000_000n }),
          }),
          { maxLength: 10 },
        ),
        (balances, unapplied) => {
          const payable = payableBalances(balances, unapplied);
          payable.forEach((balance, index) => {
            const pending = unapplied
              .filter((request) => request.accountId === balance.accountId)
              .reduce((sum, request) => sum + request.amountMinor, 0n);
            expect(balance.payableMinor).toBe(balances[index]!.payableMinor - pending);
            expect(balance.payableMinor).toBeLessThanOrEqual(balances[index]!.payableMinor);
          });
        },
      ),
    );
  });

  it('refuses a negative unapplied request, naming the field', () => {
    expect(() => payableBalances([], [{ accountId: 'contributor:a', asset: 'USDC', amountMinor: -1n }])).toThrow(
      'amountMinor:',
    );
  });
});
