import { balanceKey, PAYOUTS_IN_FLIGHT_ACCOUNT, settlementAccount } from './accounts';
import type { LedgerTransaction } from './ledger-transaction';
import { assertBalanced, type Posting } from './posting';

export type PayoutStatus = 'REQUESTED' | 'SETTLED' | 'FAILED';

/** What the ledger remembers of one payout between its request and its end. */
export interface PayoutState {
  readonly payoutId: string;
  readonly account: string;
  readonly asset: string;
  readonly amountMinor: bigint;
  readonly status: PayoutStatus;
}

export type PayoutEvent =
  | {
      readonly type: 'PayoutRequested';
      readonly eventId: string;
      readonly payoutId: string;
      readonly account: string;
      readonly asset: string;
      readonly amountMinor: bigint;
      readonly epoch: number;
    }
  | {
      readonly type: 'PayoutSettled';
      readonly eventId: string;
      readonly payoutId: string;
      readonly account: string;
      readonly rail: string;
      readonly reference: string;
    }
  | {
      readonly type: 'PayoutFailed';
      readonly eventId: string;
      readonly payoutId: string;
      readonly account: string;
      readonly reason: string;
    };

/** Why a payout event cannot enter the ledger; the record goes to the DLQ and the alert counter moves. */
export class PayoutRejectedError extends Error {
  constructor(
    readonly rule: 'overdraft' | 'unknown-payout' | 'payout-not-in-flight' | 'payout-id-reused' | 'account-mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'PayoutRejectedError';
  }
}

export interface PayoutDecision {
  readonly transaction: LedgerTransaction;
  readonly payout: PayoutState;
}

/**
 * Decides one payout event against the balances and payouts as they stand. Pure: the caller passes
 * the current payable balance (the account's balance in the asset) and the payout's state, and
 * applies the result. A request that would take the payable balance below zero is refused, never
 * trimmed: the ledger does not fix a payouts service's mistake silently.
 */
export function decidePayout(
  event: PayoutEvent,
  balanceMinor: (account: string, asset: string) => bigint,
  existing: PayoutState | undefined,
): PayoutDecision {
  switch (event.type) {
    case 'PayoutRequested': {
      if (existing)
        throw new PayoutRejectedError('payout-id-reused', `payoutId: ${event.payoutId} was already requested`);
      const availableMinor = balanceMinor(event.account, event.asset);
      if (availableMinor - event.amountMinor < 0n) {
        throw new PayoutRejectedError(
          'overdraft',
          `amountMinor: ${event.amountMinor} exceeds the payable balance ${availableMinor} of ${event.account} in ${event.asset}`,
        );
      }
      const payout = {
        payoutId: event.payoutId,
        account: event.account,
        asset: event.asset,
        amountMinor: event.amountMinor,
        status: 'REQUESTED' as const,
      };
      return {
        payout,
        transaction: payoutTransaction(
          event,
          'requested',
          [
            [event.account, -event.amountMinor],
            [PAYOUTS_IN_FLIGHT_ACCOUNT, event.amountMinor],
          ],
          event.asset,
        ),
      };
    }
    case 'PayoutSettled':
    case 'PayoutFailed': {
      const payout = inFlight(event, existing);
      const target = event.type === 'PayoutSettled' ? settlementAccount(event.rail) : payout.account;
      const stage = event.type === 'PayoutSettled' ? 'settled' : 'failed';
      return {
        payout: { ...payout, status: event.type === 'PayoutSettled' ? 'SETTLED' : 'FAILED' },
        transaction: payoutTransaction(
          event,
          stage,
          [
            [PAYOUTS_IN_FLIGHT_ACCOUNT, -payout.amountMinor],
            [target, payout.amountMinor],
          ],
          payout.asset,
        ),
      };
    }
    default:
      return assertNeverPayout(event);
  }
}

function inFlight(event: PayoutEvent, existing: PayoutState | undefined): PayoutState {
  if (!existing) throw new PayoutRejectedError('unknown-payout', `payoutId: ${event.payoutId} was never requested`);
  if (existing.account !== event.account)
    throw new PayoutRejectedError(
      'account-mismatch',
      `accountId: ${event.account} is not the account ${existing.account} of payout ${event.payoutId}`,
    );
  if (existing.status !== 'REQUESTED')
    throw new PayoutRejectedError('payout-not-in-flight', `payoutId: ${event.payoutId} is already ${existing.status}`);
  return existing;
}

function payoutTransaction(
  event: PayoutEvent,
  stage: string,
  legs: Array<[string, bigint]>,
  asset: string,
): LedgerTransaction {
  const postings: Posting[] = legs.map(([account, amountMinor]) => ({ account, asset, amountMinor }));
  assertBalanced(postings);
  return { transactionId: `payout:${event.payoutId}:${stage}`, sourceEventId: event.eventId, postings };
}

function assertNeverPayout(value: never): never {
  throw new Error(`unhandled payout event ${JSON.stringify(value)}`);
}

/**
 * Folds a partition's payout events in order over the balances and payouts read from the database,
 * so a request later in the same batch sees the effect of an earlier one. Returns, per event, either
 * its decision or the reason it was refused; the caller writes the decisions and rejects the rest.
 */
export function foldPayouts(
  events: readonly PayoutEvent[],
  balances: ReadonlyMap<string, bigint>,
  payouts: ReadonlyMap<string, PayoutState>,
): Array<PayoutDecision | PayoutRejectedError> {
  const working = new Map(balances);
  const states = new Map(payouts);
  return events.map((event) => {
    try {
      const decision = decidePayout(
        event,
        (account, asset) => working.get(balanceKey(account, asset)) ?? 0n,
        states.get(event.payoutId),
      );
      for (const posting of decision.transaction.postings) {
        const key = balanceKey(posting.account, posting.asset);
        working.set(key, (working.get(key) ?? 0n) + posting.amountMinor);
      }
      states.set(event.payoutId, decision.payout);
      return decision;
    } catch (error) {
      if (error instanceof PayoutRejectedError) return error;
      throw error;
    }
  });
}
