import type { RailAnswer } from '@tributary/payouts';
import type { PayoutInstruction, PayoutRail } from './rail';

/**
 * Settles inside the ledger itself: PayoutSettled with rail `ledger` moves the reserved amount to the
 * ledger's external account `settlement:ledger`, where an operator pays it out by other means and
 * reconciles against that account's balance. Always succeeds; the reference is derived from the id.
 */
export class LedgerRail implements PayoutRail {
  readonly name = 'ledger';

  async settle(instruction: PayoutInstruction): Promise<RailAnswer> {
    return { type: 'paid', reference: `ledger:${instruction.payoutId}` };
  }
}
