/**
 * The settlement saga of one payout, as a pure state machine. The service stores the state in
 * PostgreSQL and feeds it observations (a publish acknowledged, the ledger's reservation seen, a rail
 * attempt's outcome); this module says what the next state is, so the rules that stop a payout from
 * being paid twice, or paid when the ledger never reserved it, can be read and tested without a database.
 *
 *   PLANNED ──RequestPublished──> REQUESTED ──LedgerReserved (= plan)──> SETTLING ──AttemptSucceeded──> CONFIRMED ──EndPublished──> SETTLED
 *                                     │                                     │  ^
 *                                     ├──LedgerRefused──> REFUSED           │  └─AttemptFailed (retry left)
 *                                     └──LedgerReserved (≠ plan)──> REFUSED ├──AttemptFailed (refused)──> ABANDONED ──EndPublished──> FAILED
 *                                                                           │                                   ^
 *                                                                           └──AttemptFailed (unknown, no retry left)──> NEEDS_RECONCILIATION
 *                                                                                  Reconciled (paid) ──> CONFIRMED ┘ (refused) ┘  ^  StatusUnknown
 *
 * LedgerReserved carries the ledger's row (account, asset, amount, epoch) and the plan: only an exact
 * match lets the payout reach a rail. A ledger row that differs (someone else's PayoutRequested under
 * this payout's id reached the ledger first) ends it REFUSED, from PLANNED as from REQUESTED.
 *
 * An attempt ends in one of three ways: paid, refused (the rail says it did not and will not pay this
 * idempotency key), or unknown (a timeout, a 5xx, a reset after the request left: it may have paid).
 * Only a definite refusal lets the amount return to payable (PayoutFailed). Unknown outcomes retry; when
 * the retries run out the payout waits in NEEDS_RECONCILIATION, its amount still reserved in the ledger,
 * until a definite answer arrives: the rail's status query, or an operator recording the rail's answer.
 */

import { reservationMismatch, type PayoutTerms } from './reservation';

export type SagaStatus =
  | 'PLANNED'
  | 'REQUESTED'
  | 'SETTLING'
  | 'NEEDS_RECONCILIATION'
  | 'CONFIRMED'
  | 'ABANDONED'
  | 'SETTLED'
  | 'FAILED'
  | 'REFUSED';

/** States nothing moves out of: the payout is over, and its end is on the log (or, REFUSED, never needed one). */
export const TERMINAL_STATUSES: readonly SagaStatus[] = ['SETTLED', 'FAILED', 'REFUSED'];

export interface SagaState {
  readonly status: SagaStatus;
  /** Rail attempts started so far; also the fencing token of the attempt in flight. */
  readonly attempts: number;
  readonly firstAttemptAtMs: number | null;
  readonly nextAttemptAtMs: number | null;
  readonly reference: string | null;
  readonly failureReason: string | null;
}

export type SagaObservation =
  | { readonly type: 'RequestPublished' }
  /**
   * The ledger holds a reservation under this payout's id. Paying is safe only if it reserved what was
   * planned: `ledger` is the ledger's row, `plan` the payout as planned at the epoch close.
   */
  | { readonly type: 'LedgerReserved'; readonly plan: PayoutTerms; readonly ledger: PayoutTerms }
  /** The ledger read past the request without reserving it (it refused it to its DLQ): nothing may be paid. */
  | { readonly type: 'LedgerRefused'; readonly reason: string }
  | { readonly type: 'AttemptStarted'; readonly nowMs: number }
  | { readonly type: 'AttemptSucceeded'; readonly reference: string }
  /** `definite`: the rail refused this idempotency key for good; otherwise the outcome is unknown (it may have paid). */
  | { readonly type: 'AttemptFailed'; readonly reason: string; readonly definite: boolean; readonly nowMs: number }
  /**
   * A definite answer for a payout waiting for reconciliation: from the rail's status query or an
   * operator's command. `detail` is the rail's reference when paid, the reason when refused.
   */
  | { readonly type: 'Reconciled'; readonly outcome: 'paid' | 'refused'; readonly detail: string }
  /** The status query gave no definite answer: keep waiting, ask again at nextQueryAtMs. */
  | { readonly type: 'StatusUnknown'; readonly reason: string; readonly nextQueryAtMs: number }
  /** PayoutSettled or PayoutFailed was acknowledged by Kafka. */
  | { readonly type: 'EndPublished' };

/** Retries of a rail: bounded by attempts and by total time since the first attempt. */
export interface RetryPolicy {
  readonly attemptsMax: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly totalMsMax: number;
}

export class SagaTransitionError extends Error {
  constructor(
    readonly from: SagaStatus,
    readonly observation: SagaObservation['type'],
  ) {
    super(`saga: ${observation} is not allowed in state ${from}`);
    this.name = 'SagaTransitionError';
  }
}

export const PLANNED_SAGA: SagaState = {
  status: 'PLANNED',
  attempts: 0,
  firstAttemptAtMs: null,
  nextAttemptAtMs: null,
  reference: null,
  failureReason: null,
};

const FAILURE_REASON_LENGTH_MAX = 4_096;

/**
 * The next state of a saga. An observation that does not fit the state is a programmer error (the
 * caller fences its updates on the stored state), so it throws rather than being ignored.
 */
export function evolveSaga(state: SagaState, observation: SagaObservation, policy: RetryPolicy): SagaState {
  const refuse = (): never => {
    throw new SagaTransitionError(state.status, observation.type);
  };
  switch (observation.type) {
    case 'RequestPublished':
      return state.status === 'PLANNED' ? { ...state, status: 'REQUESTED' } : refuse();
    case 'LedgerReserved': {
      if (state.status !== 'REQUESTED' && state.status !== 'PLANNED') return refuse();
      const mismatch = reservationMismatch(observation.plan, observation.ledger);
      if (mismatch)
        return {
          ...state,
          status: 'REFUSED',
          nextAttemptAtMs: null,
          failureReason: clip(`the ledger's reservation differs from the plan, nothing is paid: ${mismatch.reason}`),
        };
      return { ...state, status: 'SETTLING', nextAttemptAtMs: null };
    }
    case 'LedgerRefused':
      return state.status === 'REQUESTED'
        ? { ...state, status: 'REFUSED', failureReason: clip(observation.reason) }
        : refuse();
    case 'AttemptStarted':
      if (state.status !== 'SETTLING' || state.attempts >= policy.attemptsMax) return refuse();
      return { ...state, attempts: state.attempts + 1, firstAttemptAtMs: state.firstAttemptAtMs ?? observation.nowMs };
    case 'AttemptSucceeded':
      return state.status === 'SETTLING'
        ? { ...state, status: 'CONFIRMED', reference: observation.reference, nextAttemptAtMs: null }
        : refuse();
    case 'AttemptFailed':
      if (state.status !== 'SETTLING') return refuse();
      if (observation.definite)
        return {
          ...state,
          status: 'ABANDONED',
          nextAttemptAtMs: null,
          failureReason: clip(`the rail refused the payout: ${observation.reason}`),
        };
      return afterFailure(state, observation.reason, observation.nowMs, policy);
    case 'Reconciled':
      if (state.status !== 'NEEDS_RECONCILIATION') return refuse();
      return observation.outcome === 'paid'
        ? { ...state, status: 'CONFIRMED', reference: clip(observation.detail), nextAttemptAtMs: null }
        : {
            ...state,
            status: 'ABANDONED',
            nextAttemptAtMs: null,
            failureReason: clip(`the rail refused the payout: ${observation.detail}`),
          };
    case 'StatusUnknown':
      return state.status === 'NEEDS_RECONCILIATION'
        ? { ...state, nextAttemptAtMs: observation.nextQueryAtMs }
        : refuse();
    case 'EndPublished':
      if (state.status === 'CONFIRMED') return { ...state, status: 'SETTLED' };
      if (state.status === 'ABANDONED') return { ...state, status: 'FAILED' };
      return refuse();
    default:
      return assertNeverObservation(observation);
  }
}

/**
 * An attempt with an unknown outcome retries after a backoff, unless that would break the attempts or
 * total-time bound: then the payout waits for reconciliation (first status query after one more backoff).
 */
function afterFailure(state: SagaState, reason: string, nowMs: number, policy: RetryPolicy): SagaState {
  const firstMs = state.firstAttemptAtMs ?? nowMs;
  const retryAtMs = nowMs + retryDelayMs(state.attempts, policy);
  const waiting = (why: string): SagaState => ({
    ...state,
    status: 'NEEDS_RECONCILIATION',
    nextAttemptAtMs: retryAtMs,
    failureReason: clip(`no definite answer ${why}: ${reason}`),
  });
  if (state.attempts >= policy.attemptsMax) return waiting(`after ${state.attempts} attempts`);
  if (retryAtMs - firstMs > policy.totalMsMax)
    return waiting(`after ${nowMs - firstMs} ms (limit ${policy.totalMsMax} ms)`);
  return { ...state, nextAttemptAtMs: retryAtMs, failureReason: clip(reason) };
}

/**
 * Exponential backoff after the given number of failed attempts (1 or more): base, 2·base, 4·base, ...
 * capped at backoffMaxMs. No jitter: the saga's rows are claimed one instance at a time, so retries of
 * one payout never stampede.
 */
export function retryDelayMs(failedAttempts: number, policy: RetryPolicy): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 40);
  return Math.min(policy.backoffBaseMs * 2 ** exponent, policy.backoffMaxMs);
}

export function isTerminal(status: SagaStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

function clip(reason: string): string {
  const text = reason.length === 0 ? 'unknown' : reason;
  return text.length > FAILURE_REASON_LENGTH_MAX ? `${text.slice(0, FAILURE_REASON_LENGTH_MAX - 1)}…` : text;
}

function assertNeverObservation(value: never): never {
  throw new Error(`unhandled saga observation ${JSON.stringify(value)}`);
}
