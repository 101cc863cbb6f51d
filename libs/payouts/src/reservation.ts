/**
 * What a payout is for, as planned by the payouts service or as reserved by the ledger. The rail may
 * only pay a payout whose reservation in the ledger is exactly its plan: the payout id alone proves
 * nothing, since anyone who can write a PayoutRequested under that id decides what the ledger reserves.
 */
export interface PayoutTerms {
  readonly accountId: string;
  readonly asset: string;
  readonly amountMinor: bigint;
  readonly epoch: number;
}

export interface ReservationMismatch {
  /** The first field, in account, asset, amount, epoch order, on which the ledger differs from the plan. */
  readonly field: keyof PayoutTerms;
  readonly reason: string;
}

const FIELDS: ReadonlyArray<keyof PayoutTerms> = ['accountId', 'asset', 'amountMinor', 'epoch'];

const shown = (value: PayoutTerms[keyof PayoutTerms]): string =>
  typeof value === 'string' ? JSON.stringify(value) : String(value);

/**
 * Null when the ledger reserved exactly what was planned; otherwise the first field that differs, with
 * a reason such as `amountMinor: the ledger reserved 1, the plan is 1000`. Pure; the saga and the
 * epoch close both judge a ledger row by this one comparison.
 */
export function reservationMismatch(plan: PayoutTerms, ledger: PayoutTerms): ReservationMismatch | null {
  for (const field of FIELDS) {
    if (plan[field] !== ledger[field]) {
      return {
        field,
        reason: `${field}: the ledger reserved ${shown(ledger[field])}, the plan is ${shown(plan[field])}`,
      };
    }
  }
  return null;
}

/**
 * Whether the ledger applied a payout as planned: it holds a row under the payout's id and that row is
 * the plan. An epoch close counts every other PLANNED or REQUESTED payout as still to be reserved, so a
 * row someone else's request put under the id never makes the plan look done.
 */
export function appliedAsPlanned(plan: PayoutTerms, ledger: PayoutTerms | null): boolean {
  return ledger !== null && reservationMismatch(plan, ledger) === null;
}
