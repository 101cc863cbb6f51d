import type { RailAnswer } from '@tributary/payouts';

/** What a rail is asked to pay: one payout, identified by its id, which is also the idempotency key. */
export interface PayoutInstruction {
  readonly payoutId: string;
  readonly accountId: string;
  readonly asset: string;
  readonly amountMinor: bigint;
  readonly epoch: number;
  readonly attempt: number;
}

/**
 * A way money leaves Tributary. A rail must be idempotent on payoutId: asked twice for the same
 * payout (a retry after a timeout, a resumed attempt after a crash) it pays once and answers alike.
 * `settle` never throws for the rail's own failures: it answers paid, refused (definitely not paid, and
 * never will be under this key) or unknown (the saga retries, then waits for reconciliation).
 * `status`, where the rail offers it, asks what became of a payout by its idempotency key.
 */
export interface PayoutRail {
  /** As written in PayoutSettled.rail; the ledger books settled payouts to `settlement:<name>`. */
  readonly name: string;
  settle(instruction: PayoutInstruction): Promise<RailAnswer>;
  status?(payoutId: string): Promise<RailAnswer>;
}

export const PAYOUT_RAILS = Symbol('PAYOUT_RAILS');
