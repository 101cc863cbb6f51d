import { ContractError, fromRecord, topicOf, type InferenceAttributed } from '@tributary/contracts';
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
  | { readonly kind: 'funding'; readonly record: InboundRecord; readonly eventId: string; readonly funding: FundingMovement }
) & {
  /** SHA-256 of the record's value: a re-delivery of an event has the same, another event under a reused id does not. */
  readonly contentHash: Buffer;
};

/**
 * A funding event as the ledger keeps it: money a producer paid in (deposit) or had taken back
 * (chargeback), in one asset. Only its totals per (producer, asset) are kept (producer_funding).
 */
export interface FundingMovement {
  readonly type: 'deposit' | 'chargeback';
  readonly producer: string;
  readonly asset: string;
  readonly amountMinor: bigint;
}

/** Decisions written before InferenceAttributed v3 name no producer; they count under this one, which no funding event can name. */
export const UNKNOWN_PRODUCER = '';

/** The producer a decision's credits are backed by: its inference's source, or UNKNOWN_PRODUCER. */
export const producerOf = (decision: InferenceAttributed): string => decision.producer ?? UNKNOWN_PRODUCER;

const AMOUNT_MAX = 2n ** 63n - 1n;
/** The funding topic's name without the deployment's prefix. */
const FUNDING_TOPIC = topicOf('FundsDeposited');
const ACCOUNT_ID_LENGTH_MAX = 256;
const CONSUMER_PREFIX_LENGTH = 'consumer:'.length;

/**
 * Reads one record off the wire into what the ledger applies. The balance rule is checked here, on
 * the reading side of the boundary, even though the attribution service checked it before writing.
 */
export function readLedgerRecord(record: InboundRecord): LedgerRecord {
  try {
    const decoded = fromRecord(record.value, record.headers);
    // The funding topic carries funding events only, and funding events come from it only: a deposit
    // read off another topic would back credits nobody paid for.
    const isFunding = decoded.type === 'FundsDeposited' || decoded.type === 'FundsReversed';
    if (isFunding !== record.topic.endsWith(FUNDING_TOPIC)) throw new RecordRejected(`ce_type: ${decoded.envelope.type} does not belong on ${record.topic}`, 'wrong-topic');
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
      case 'FundsDeposited':
      case 'FundsReversed': {
        const { data } = decoded;
        // The schema holds these already; checked again on the reading side, like credits, because a
        // wrong one would back (or unback) another producer's credits for good.
        if (data.producer.length === 0) throw new RecordRejected('producer: empty; a funding event names the producer that paid (1 to 256 characters)', 'malformed');
        if (data.amountMinor <= 0n) throw new RecordRejected(`amountMinor: ${data.amountMinor} is not positive; a deposit or reversal moves at least 1 minor unit`, 'non-positive-amount');
        if (data.amountMinor > AMOUNT_MAX) throw new RecordRejected(`amountMinor: ${data.amountMinor} is past 2^63 - 1`, 'amount-out-of-range');
        const type = decoded.type === 'FundsDeposited' ? 'deposit' : 'chargeback';
        return { kind: 'funding', record, eventId: data.eventId, contentHash: contentHashOf(record.value!), funding: { type, producer: data.producer, asset: data.asset, amountMinor: data.amountMinor } };
      }
      case 'DatanetCreated':
      case 'DatanetUpdated':
      case 'ContributionSubmitted':
      case 'ContributionValidated':
      case 'ContributionRevoked':
      case 'ModelRegistered':
      case 'ModelRetired':
      case 'InferenceCompleted':
        throw new RecordRejected(`ce_type: ${decoded.envelope.type} does not belong on ${record.topic}`, 'wrong-topic');
    }
  } catch (error) {
    if (error instanceof ContractError) throw new RecordRejected(error.message, 'contract');
    if (error instanceof UnbalancedTransactionError) throw new RecordRejected(error.message, 'unbalanced');
    throw error;
  }
}
