import { ContractError, fromRecord } from '@tributary/contracts';
import { transactionOfDecision, UnbalancedTransactionError, type LedgerTransaction } from '@tributary/ledger';
import type { InboundRecord } from '@tributary/messaging';

/** A record that cannot enter the ledger; the reason names the field and the rule, and goes to the DLQ. */
export class RecordRejected extends Error {
  override readonly name = 'RecordRejected';
}

/**
 * Reads an InferenceAttributed decision off the wire and folds it into a ledger transaction. The
 * balance rule is checked here, on the reading side of the boundary, even though the attribution
 * service checked it before writing.
 */
export function readAttribution(record: InboundRecord): LedgerTransaction {
  try {
    const decoded = fromRecord(record.value, record.headers);
    if (decoded.type !== 'InferenceAttributed') {
      throw new RecordRejected(`ce_type: ${decoded.envelope.type} does not belong on the attributions topic`);
    }
    const { data } = decoded;
    return transactionOfDecision({ ...data, credits: data.postings });
  } catch (error) {
    if (error instanceof ContractError || error instanceof UnbalancedTransactionError) throw new RecordRejected(error.message);
    throw error;
  }
}
