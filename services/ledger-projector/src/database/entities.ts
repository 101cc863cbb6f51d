import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '@tributary/persistence';

/**
 * The read model as TypeORM sees it. The projector writes with COPY and multi-row statements for
 * throughput; these entities describe the same tables for readers (the query API, audits) and keep
 * the column names in one typed place. The schema itself comes from the migrations only.
 */

/** One posting of one ledger transaction, immutable once written; traced to the record it came from. */
@Entity({ name: 'ledger_entries' })
export class LedgerEntryRow {
  @PrimaryColumn({ type: 'text', name: 'source_topic' }) sourceTopic!: string;
  @PrimaryColumn({ type: 'integer', name: 'source_partition' }) sourcePartition!: number;
  @PrimaryColumn({ type: 'bigint', name: 'chain_seq', transformer: bigintTransformer }) chainSeq!: bigint;
  @Column({ type: 'text', name: 'transaction_id' }) transactionId!: string;
  @Column({ type: 'smallint', name: 'posting_index' }) postingIndex!: number;
  @Column({ type: 'text' }) account!: string;
  @Column({ type: 'text' }) asset!: string;
  @Column({ type: 'bigint', name: 'amount_minor', transformer: bigintTransformer }) amountMinor!: bigint;
  @Column({ type: 'text', name: 'source_event_id' }) sourceEventId!: string;
  @Column({ type: 'bigint', name: 'source_offset', transformer: bigintTransformer }) sourceOffset!: bigint;
  @Column({ type: 'bytea' }) hash!: Buffer;
}

/** Event ids already applied: a re-published event is recognised here and has no second effect. */
@Entity({ name: 'applied_events' })
export class AppliedEventRow {
  @PrimaryColumn({ type: 'text', name: 'event_id' }) eventId!: string;
  @PrimaryColumn({ type: 'text', name: 'source_topic' }) sourceTopic!: string;
  @Column({ type: 'integer', name: 'source_partition' }) sourcePartition!: number;
  @Column({ type: 'bigint', name: 'source_offset', transformer: bigintTransformer }) sourceOffset!: bigint;
  @Column({ type: 'bytea', name: 'content_hash', nullable: true }) contentHash!: Buffer | null;
}

@Entity({ name: 'accounts' })
export class AccountRow {
  @PrimaryColumn({ type: 'text' }) account!: string;
  @PrimaryColumn({ type: 'text' }) asset!: string;
  @Column({ type: 'text' }) role!: string;
  @Column({ type: 'text', name: 'owner_id' }) ownerId!: string;
  @Column({ type: 'numeric', name: 'balance_minor', transformer: bigintTransformer }) balanceMinor!: bigint;
  @Column({ type: 'bigint', name: 'entry_count', transformer: bigintTransformer }) entryCount!: bigint;
}

@Entity({ name: 'inferences' })
export class InferenceRow {
  @PrimaryColumn({ type: 'text', name: 'inference_id' }) inferenceId!: string;
  @Column({ type: 'text', name: 'event_id' }) eventId!: string;
  @Column({ type: 'text', name: 'inference_event_id' }) inferenceEventId!: string;
  @Column({ type: 'text', name: 'model_id' }) modelId!: string;
  @Column({ type: 'text', name: 'consumer_id' }) consumerId!: string;
  @Column({ type: 'text' }) asset!: string;
  @Column({ type: 'bigint', name: 'fee_minor', transformer: bigintTransformer }) feeMinor!: bigint;
  @Column({ type: 'integer', name: 'policy_version' }) policyVersion!: number;
  @Column({ type: 'text', name: 'source_topic' }) sourceTopic!: string;
  @Column({ type: 'integer', name: 'source_partition' }) sourcePartition!: number;
  @Column({ type: 'bigint', name: 'source_offset', transformer: bigintTransformer }) sourceOffset!: bigint;
}

@Entity({ name: 'contribution_credits' })
export class ContributionCreditRow {
  @PrimaryColumn({ type: 'text', name: 'inference_id' }) inferenceId!: string;
  @PrimaryColumn({ type: 'text' }) account!: string;
  @PrimaryColumn({ type: 'text', name: 'contribution_id' }) contributionId!: string;
  @Column({ type: 'text', name: 'datanet_id' }) datanetId!: string;
  @Column({ type: 'bigint', name: 'score_ppm', transformer: bigintTransformer }) scorePpm!: bigint;
  @Column({ type: 'text' }) asset!: string;
  @Column({ type: 'bigint', name: 'amount_minor', transformer: bigintTransformer }) amountMinor!: bigint;
}

@Entity({ name: 'revenue' })
export class RevenueRow {
  @PrimaryColumn({ type: 'text' }) dimension!: 'datanet' | 'model' | 'contributor';
  @PrimaryColumn({ type: 'text', name: 'dimension_id' }) dimensionId!: string;
  @PrimaryColumn({ type: 'text' }) asset!: string;
  @Column({ type: 'numeric', name: 'revenue_minor', transformer: bigintTransformer }) revenueMinor!: bigint;
  @Column({ type: 'bigint', name: 'inference_count', transformer: bigintTransformer }) inferenceCount!: bigint;
}

@Entity({ name: 'payouts' })
export class PayoutRow {
  @PrimaryColumn({ type: 'text', name: 'payout_id' }) payoutId!: string;
  @Column({ type: 'text' }) account!: string;
  @Column({ type: 'text' }) asset!: string;
  @Column({ type: 'bigint', name: 'amount_minor', transformer: bigintTransformer }) amountMinor!: bigint;
  @Column({ type: 'integer' }) epoch!: number;
  @Column({ type: 'text' }) status!: 'REQUESTED' | 'SETTLED' | 'FAILED';
  @Column({ type: 'text', name: 'requested_event_id' }) requestedEventId!: string;
  @Column({ type: 'text', name: 'ended_event_id', nullable: true }) endedEventId!: string | null;
  @Column({ type: 'text', nullable: true }) rail!: string | null;
  @Column({ type: 'text', nullable: true }) reference!: string | null;
  @Column({ type: 'text', name: 'failure_reason', nullable: true }) failureReason!: string | null;
}

@Entity({ name: 'checkpoints' })
export class CheckpointRow {
  @PrimaryColumn({ type: 'text', name: 'source_topic' }) sourceTopic!: string;
  @PrimaryColumn({ type: 'integer', name: 'source_partition' }) sourcePartition!: number;
  @Column({ type: 'bigint', name: 'chain_seq', transformer: bigintTransformer }) chainSeq!: bigint;
  @Column({ type: 'bytea', name: 'head_hash' }) headHash!: Buffer;
  @Column({ type: 'bigint', name: 'next_offset', transformer: bigintTransformer }) nextOffset!: bigint;
  @Column({ type: 'bigint', name: 'event_count', transformer: bigintTransformer }) eventCount!: bigint;
}

/**
 * Per producer and asset: fees its inferences reported and the credits they earned (from decisions),
 * money it paid in and had taken back (from the funding topic). Producer '' holds decisions that name
 * no producer (written before InferenceAttributed v3); it is never funded.
 */
@Entity({ name: 'producer_funding' })
export class ProducerFundingRow {
  @PrimaryColumn({ type: 'text' }) producer!: string;
  @PrimaryColumn({ type: 'text' }) asset!: string;
  @Column({ type: 'numeric', name: 'fees_minor', transformer: bigintTransformer }) feesMinor!: bigint;
  @Column({ type: 'numeric', name: 'credited_minor', transformer: bigintTransformer }) creditedMinor!: bigint;
  @Column({ type: 'numeric', name: 'deposits_minor', transformer: bigintTransformer }) depositsMinor!: bigint;
  @Column({ type: 'numeric', name: 'chargebacks_minor', transformer: bigintTransformer }) chargebacksMinor!: bigint;
}

/** What each earning account was credited from each producer's inferences, per asset. */
@Entity({ name: 'producer_credits' })
export class ProducerCreditRow {
  @PrimaryColumn({ type: 'text' }) account!: string;
  @PrimaryColumn({ type: 'text' }) producer!: string;
  @PrimaryColumn({ type: 'text' }) asset!: string;
  @Column({ type: 'numeric', name: 'credited_minor', transformer: bigintTransformer }) creditedMinor!: bigint;
}

export const LEDGER_ENTITIES = [LedgerEntryRow, AppliedEventRow, AccountRow, InferenceRow, ContributionCreditRow, RevenueRow, PayoutRow, CheckpointRow, ProducerFundingRow, ProducerCreditRow];
