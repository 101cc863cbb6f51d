import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { bigintTransformer } from '@tributary/persistence';

/** One posting of one ledger transaction, immutable once written; traced to the record it came from. */
@Entity({ name: 'ledger_entries' })
@Index('ledger_entries_account_idx', ['account', 'asset'])
export class LedgerEntryRow {
  @PrimaryGeneratedColumn({ type: 'bigint', name: 'entry_id' })
  entryId!: string;

  @Column({ type: 'text', name: 'transaction_id' })
  transactionId!: string;

  @Column({ type: 'text' })
  account!: string;

  @Column({ type: 'text' })
  asset!: string;

  @Column({ type: 'bigint', name: 'amount_minor', transformer: bigintTransformer })
  amountMinor!: bigint;

  @Column({ type: 'text', name: 'source_event_id' })
  sourceEventId!: string;

  @Column({ type: 'text', name: 'source_topic' })
  sourceTopic!: string;

  @Column({ type: 'integer', name: 'source_partition' })
  sourcePartition!: number;

  @Column({ type: 'bigint', name: 'source_offset', transformer: bigintTransformer })
  sourceOffset!: bigint;
}

/** Event ids already applied: a re-published event is recognised here and has no second effect. */
@Entity({ name: 'applied_events' })
export class AppliedEventRow {
  @PrimaryColumn({ type: 'text', name: 'event_id' })
  eventId!: string;

  @Column({ type: 'text', name: 'source_topic' })
  sourceTopic!: string;

  @Column({ type: 'integer', name: 'source_partition' })
  sourcePartition!: number;

  @Column({ type: 'bigint', name: 'source_offset', transformer: bigintTransformer })
  sourceOffset!: bigint;
}
