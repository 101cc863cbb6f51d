import { ContractError, fromRecord, topicOf, type DecodedRecord } from '@tributary/contracts';
import { accountPrefix } from '@tributary/attribution';
import {
  transactionOfDecision,
  UnbalancedTransactionError,
  type LedgerEvent,
  type LedgerFoldRecord,
} from '@tributary/ledger';
import { contentHashOf, type InboundRecord } from '@tributary/messaging';

/** A record that cannot enter the ledger; the reason names the field and the rule, and goes to the DLQ. */
export class RecordRejected extends Error {
  override readonly name = 'RecordRejected';
  constructor(
    message: string,
    readonly rule: string,
  ) {
    super(message);
  }
}

/** One decoded record the ledger knows how to apply: the fold's record, with the wire record it came from. */
export type LedgerRecord = LedgerFoldRecord & { readonly record: InboundRecord };

const AMOUNT_MAX = 2n ** 63n - 1n;
/** The funding topic's name without the deployment's prefix. */
const FUNDING_TOPIC = topicOf('FundsDeposited');
const ACCOUNT_ID_LENGTH_MAX = 256;
const CONSUMER_PREFIX_LENGTH = accountPrefix('consumer').length;

/**
 * Reads one record off the wire into what the ledger applies. The balance rule is checked here, on
 * the reading side of the boundary, even though the attribution service checked it before writing.
 */
export function readLedgerRecord(record: InboundRecord): LedgerRecord {
  const { eventId, event, body } = readLedgerEvent(record);
  // The hash of the Avro body, not of the value: an event written raw and re-delivered framed (or the
  // other way round) is the same content under its id, a re-delivery, not a conflict.
  return { record, eventId, sourceOffset: BigInt(record.offset), contentHash: contentHashOf(body), event };
}

type ReadEvent = { readonly eventId: string; readonly event: LedgerEvent };

function readLedgerEvent(record: InboundRecord): ReadEvent & { readonly body: Buffer } {
  try {
    const decoded = fromRecord(record.value, record.headers);
    return { ...ledgerEventOf(decoded, record), body: decoded.body };
  } catch (error) {
    if (error instanceof ContractError) throw new RecordRejected(error.message, 'contract');
    if (error instanceof UnbalancedTransactionError) throw new RecordRejected(error.message, 'unbalanced');
    throw error;
  }
}

function ledgerEventOf(decoded: DecodedRecord, record: InboundRecord): ReadEvent {
  // The funding topic carries funding events only, and funding events come from it only: a deposit
  // read off another topic would back credits nobody paid for.
  const isFunding = decoded.type === 'FundsDeposited' || decoded.type === 'FundsReversed';
  if (isFunding !== record.topic.endsWith(FUNDING_TOPIC))
    throw new RecordRejected(`ce_type: ${decoded.envelope.type} does not belong on ${record.topic}`, 'wrong-topic');
  switch (decoded.type) {
    case 'InferenceAttributed': {
      const { data } = decoded;
      for (let index = 0; index < data.postings.length; index += 1) {
        const { amountMinor } = data.postings[index]!;
        if (amountMinor < 0n)
          throw new RecordRejected(
            `postings[${index}].amountMinor: ${amountMinor} is negative; credits are never negative`,
            'negative-credit',
          );
      }
      if (CONSUMER_PREFIX_LENGTH + data.consumerId.length > ACCOUNT_ID_LENGTH_MAX)
        throw new RecordRejected('consumerId: too long for an account id', 'malformed');
      const facts = {
        eventId: data.eventId,
        inferenceId: data.inferenceId,
        consumerId: data.consumerId,
        asset: data.asset,
        feeMinor: data.feeMinor,
        credits: data.postings,
      };
      return {
        eventId: data.eventId,
        event: { type: 'attribution', decision: data, transaction: transactionOfDecision(facts) },
      };
    }
    case 'PayoutRequested': {
      const { data } = decoded;
      return {
        eventId: data.eventId,
        event: {
          type: 'payout',
          payout: {
            type: 'PayoutRequested',
            eventId: data.eventId,
            payoutId: data.payoutId,
            account: data.accountId,
            asset: data.asset,
            amountMinor: data.amountMinor,
            epoch: data.epoch,
          },
        },
      };
    }
    case 'PayoutSettled': {
      const { data } = decoded;
      return {
        eventId: data.eventId,
        event: {
          type: 'payout',
          payout: {
            type: 'PayoutSettled',
            eventId: data.eventId,
            payoutId: data.payoutId,
            account: data.accountId,
            rail: data.rail,
            reference: data.reference,
          },
        },
      };
    }
    case 'PayoutFailed': {
      const { data } = decoded;
      return {
        eventId: data.eventId,
        event: {
          type: 'payout',
          payout: {
            type: 'PayoutFailed',
            eventId: data.eventId,
            payoutId: data.payoutId,
            account: data.accountId,
            reason: data.reason,
          },
        },
      };
    }
    case 'FundsDeposited':
    case 'FundsReversed': {
      const { data } = decoded;
      // The schema holds these already; checked again on the reading side, like credits, because a
      // wrong one would back (or unback) another producer's credits for good.
      if (data.producer.length === 0)
        throw new RecordRejected(
          'producer: empty; a funding event names the producer that paid (1 to 256 characters)',
          'malformed',
        );
      if (data.amountMinor <= 0n)
        throw new RecordRejected(
          `amountMinor: ${data.amountMinor} is not positive; a deposit or reversal moves at least 1 minor unit`,
          'non-positive-amount',
        );
      if (data.amountMinor > AMOUNT_MAX)
        throw new RecordRejected(`amountMinor: ${data.amountMinor} is past 2^63 - 1`, 'amount-out-of-range');
      const type = decoded.type === 'FundsDeposited' ? 'deposit' : 'chargeback';
      return {
        eventId: data.eventId,
        event: {
          type: 'funding',
          funding: { type, producer: data.producer, asset: data.asset, amountMinor: data.amountMinor },
        },
      };
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
}
