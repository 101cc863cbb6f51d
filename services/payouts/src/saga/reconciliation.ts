import { evolveSaga, type Resolution, type RetryPolicy, type SagaStatus } from '@tributary/payouts';
import type { SagaStore } from './saga-store';

const PAYOUT_ID = /^payout:\d{1,10}:[0-9a-f]{40}$/;

/** The payout id as an operator passes it; the error names the field and the rule. */
export function parsePayoutId(value: string): string {
  if (!PAYOUT_ID.test(value))
    throw new RangeError('payoutId: must be a payout id as statements show it, "payout:<epoch>:<40 hex digits>"');
  return value;
}

export class PayoutNotFoundError extends Error {
  constructor(payoutId: string) {
    super(`payoutId: no payout ${payoutId}`);
    this.name = 'PayoutNotFoundError';
  }
}

/** The payout is not waiting for reconciliation (already moved, or never needed it): nothing changes. */
export class ResolutionConflictError extends Error {
  constructor(
    payoutId: string,
    readonly status: SagaStatus,
  ) {
    super(
      `payoutId: payout ${payoutId} is ${status}, not NEEDS_RECONCILIATION: only a payout waiting for a definite answer can be resolved, and only once`,
    );
    this.name = 'ResolutionConflictError';
  }
}

export interface ResolvedPayout {
  readonly payoutId: string;
  readonly status: SagaStatus;
  readonly resolution: Resolution & { readonly source: 'operator' };
}

/**
 * An operator records the rail's definite answer for a payout waiting for reconciliation. Settled moves
 * it to CONFIRMED (PayoutSettled with the rail's reference follows), refused to ABANDONED (PayoutFailed
 * follows, and only then does the amount return to payable). The store fences on the status, so of two
 * commands, or a command and the rail's status query, exactly one moves it.
 */
export async function resolveByOperator(
  store: SagaStore,
  payoutId: string,
  resolution: Resolution,
  retry: RetryPolicy,
): Promise<ResolvedPayout> {
  const row = await store.find(payoutId);
  if (!row) throw new PayoutNotFoundError(payoutId);
  if (row.state.status !== 'NEEDS_RECONCILIATION') throw new ResolutionConflictError(payoutId, row.state.status);
  const next = evolveSaga(
    row.state,
    { type: 'Reconciled', outcome: resolution.outcome === 'settled' ? 'paid' : 'refused', detail: resolution.detail },
    retry,
  );
  const recorded = { source: 'operator' as const, ...resolution };
  if (!(await store.resolve(payoutId, null, next, recorded))) {
    const now = await store.find(payoutId);
    throw new ResolutionConflictError(payoutId, now?.state.status ?? row.state.status);
  }
  return { payoutId, status: next.status, resolution: recorded };
}
