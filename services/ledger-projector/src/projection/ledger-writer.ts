import type { EntityManager } from 'typeorm';
import type { InboundRecord } from '@tributary/messaging';
import { AppliedEventRow, LedgerEntryRow } from '../database/entities';
import type { AttributionToApply } from './attribution-record';

export interface DecodedRecord {
  readonly record: InboundRecord;
  readonly attribution: AttributionToApply;
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
    .values(decoded.map(({ record, attribution }) => appliedRow(record, attribution)))
    .orIgnore()
    .returning(['eventId'])
    .execute();
  const fresh = new Set(inserted.raw.map((row: { event_id: string }) => row.event_id));
  const seen = new Set<string>();
  const entries = decoded
    .filter(({ attribution }) => fresh.has(attribution.eventId) && !seen.has(attribution.eventId) && seen.add(attribution.eventId))
    .flatMap(({ record, attribution }) => attribution.postings.map((posting) => entryRow(record, attribution, posting)));
  if (entries.length > 0) await manager.createQueryBuilder().insert().into(LedgerEntryRow).values(entries).execute();
  return entries.length;
}

function appliedRow(record: InboundRecord, attribution: AttributionToApply) {
  return {
    eventId: attribution.eventId,
    sourceTopic: record.topic,
    sourcePartition: record.partition,
    sourceOffset: BigInt(record.offset),
  };
}

function entryRow(record: InboundRecord, attribution: AttributionToApply, posting: AttributionToApply['postings'][number]) {
  return {
    transactionId: attribution.transactionId,
    account: posting.account,
    asset: posting.asset,
    amountMinor: posting.amountMinor,
    sourceEventId: attribution.eventId,
    sourceTopic: record.topic,
    sourcePartition: record.partition,
    sourceOffset: BigInt(record.offset),
  };
}
