import { ContractError, fromRecord, type InferenceAttributed } from '@tributary/contracts';
import { transactionOfDecision, UnbalancedTransactionError, type LedgerTransaction, type PayoutEvent } from '@tributary/ledger';
import { contentHashOf, type InboundRecord } from '@tributary/messaging';

/** A record that cannot enter the ledger; the reason names the field and the rule, and goes to the DLQ. */
export class RecordRejected extends Error {
  override readonly name = 'RecordRejected';
  constructor(message: string, readonly rule: string) {
    super(message);
  }
}

/** One decoded record the ledger knows how to apply. */
export type LedgerRecord = (
  | { readonly kind: 'attribution'; readonly record: InboundRecord; readonly eventId: string; readonly decision: InferenceAttributed; readonly transaction: LedgerTransaction }
  | { readonly kind: 'payout'; readonly record: InboundRecord; readonly eventId: string; readonly event: PayoutEvent; readonly epoch: number }
) & {
  /** SHA-256 of the record's value: a re-delivery of an event has the same, another event under a reused id does not. */
  readonly contentHash: Buffer;
};

const ACCOUNT_ID_LENGTH_MAX = 256;
const CONSUMER_PREFIX_LENGTH = 'consumer:'.length;

/**
 * Reads one record off the wire into what the ledger applies. The balance rule is checked here, on
 * the reading side of the boundary, even though the attribution service checked it before writing.
 */
export function readLedgerRecord(record: InboundRecord): LedgerRecord {
  try {
    const decoded = fromRecord(record.value, record.headers);
    switch (decoded.type) {
      case 'InferenceAttributed': {
        const { data } = decoded;
        for (let index = 0; index < data.postings.length; index += 1) {
          const { amountMinor } = data.postings[index]!;
          if (amountMinor < 0n) throw new RecordRejected(`postings[${index}].amountMinor: ${amountMinor} is negative; credits are never negative`, 'negative-credit');
        }
        if (CONSUMER_PREFIX_LENGTH + data.consumerId.length > ACCOUNT_ID_LENGTH_MAX) throw new RecordRejected('consumerId: too long for an account id', 'malformed');
        const facts = { eventId: data.eventId, inferenceId: data.inferenceId, consumerId: data.consumerId, asset: data.asset, feeMinor: data.feeMinor, credits: data.postings };
        return { kind: 'attribution', record, eventId: data.eventId, decision: data, transaction: transactionOfDecision(facts), contentHash: contentHashOf(record.value!) };
      }
      case 'PayoutRequested': {
        const { data } = decoded;
        return { kind: 'payout', record, eventId: data.eventId, epoch: data.epoch, contentHash: contentHashOf(record.value!), event: { type: 'PayoutRequested', eventId: data.eventId, payoutId: data.payoutId, account: data.accountId, asset: data.asset, amountMinor: data.amountMinor, epoch: data.epoch } };
      }
      case 'PayoutSettled': {
        const { data } = decoded;
        return { kind: 'payout', record, eventId: data.eventId, epoch: 0, contentHash: contentHashOf(record.value!), event: { type: 'PayoutSettled', eventId: data.eventId, payoutId: data.payoutId, account: data.accountId, rail: data.rail, reference: data.reference } };
      }
      case 'PayoutFailed': {
        const { data } = decoded;
        return { kind: 'payout', record, eventId: data.eventId, epoch: 0, contentHash: contentHashOf(record.value!), event: { type: 'PayoutFailed', eventId: data.eventId, payoutId: data.payoutId, account: data.accountId, reason: data.reason } };
      }
      default:
        throw new RecordRejected(`ce_type: ${decoded.envelope.type} does not belong on ${record.topic}`, 'wrong-topic');
    }
  } catch (error) {
    if (error instanceof ContractError) throw new RecordRejected(error.message, 'contract');
    if (error instanceof UnbalancedTransactionError) throw new RecordRejected(error.message, 'unbalanced');
    throw error;
  }
}
