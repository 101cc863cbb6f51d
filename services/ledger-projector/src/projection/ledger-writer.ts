import type { EntityManager } from 'typeorm';
import type { InboundRecord } from '@tributary/messaging';
import { AppliedEventRow, LedgerEntryRow } from '../database/entities';
import type { LedgerTransaction } from '@tributary/ledger';

export interface DecodedRecord {
  readonly record: InboundRecord;
  readonly transaction: LedgerTransaction;
}

/**
 * Writes the entries of every attribution not applied before, inside the caller's transaction. The
 * applied_events insert is the dedup: a re-published event id conflicts and contributes no entry.
 */
export async function writeEntries(manager: EntityManager, decoded: readonly DecodedRecord[]): Promise<number> {
  if (decoded.length === 0) return 0;
  const inserted = await manager
    .createQueryBuilder()
    .insert()
    .into(AppliedEventRow)
    .values(decoded.map(({ record, transaction }) => appliedRow(record, transaction)))
    .orIgnore()
    .returning(['eventId'])
    .execute();
  const fresh = new Set(inserted.raw.map((row: { event_id: string }) => row.event_id));
  const seen = new Set<string>();
  const entries = decoded
    .filter(({ transaction }) => fresh.has(transaction.sourceEventId) && !seen.has(transaction.sourceEventId) && seen.add(transaction.sourceEventId))
    .flatMap(({ record, transaction }) => transaction.postings.map((posting) => entryRow(record, transaction, posting)));
  if (entries.length > 0) await manager.createQueryBuilder().insert().into(LedgerEntryRow).values(entries).execute();
  return entries.length;
}

function appliedRow(record: InboundRecord, transaction: LedgerTransaction) {
  return {
    eventId: transaction.sourceEventId,
    sourceTopic: record.topic,
    sourcePartition: record.partition,
    sourceOffset: BigInt(record.offset),
  };
}

function entryRow(record: InboundRecord, transaction: LedgerTransaction, posting: LedgerTransaction['postings'][number]) {
  return {
    transactionId: transaction.transactionId,
    account: posting.account,
    asset: posting.asset,
    amountMinor: posting.amountMinor,
    sourceEventId: transaction.sourceEventId,
    sourceTopic: record.topic,
    sourcePartition: record.partition,
    sourceOffset: BigInt(record.offset),
  };
}
