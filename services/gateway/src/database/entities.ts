import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '@tributary/persistence';

/** One API key: only its SHA-256 is kept; the key itself is shown once, at creation. */
@Entity({ name: 'api_keys' })
export class ApiKeyRow {
  @PrimaryColumn({ type: 'text', name: 'key_id' })
  keyId!: string;

  @Column({ type: 'text', name: 'key_sha256', unique: true })
  keySha256!: string;

  @Column({ type: 'text', name: 'producer_id' })
  producerId!: string;

  @Column({ type: 'text', array: true, name: 'event_types' })
  eventTypes!: string[];

  @Column({ type: 'text', array: true, name: 'datanet_ids' })
  datanetIds!: string[];

  @Column({ type: 'text', array: true, name: 'model_ids' })
  modelIds!: string[];

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}

/**
 * One event id the gateway has seen: claimed ('pending') before the Kafka send, 'acknowledged' with
 * where it landed once Kafka acked it. A retry with the same id and body gets the stored result back.
 */
@Entity({ name: 'ingested_events' })
export class IngestedEventRow {
  @PrimaryColumn({ type: 'text', name: 'event_id' })
  eventId!: string;

  @Column({ type: 'text', name: 'producer_id' })
  producerId!: string;

  @Column({ type: 'text', name: 'event_type' })
  eventType!: string;

  /** SHA-256 of the event type and the Avro encoding: the same event in any JSON spelling has one hash. */
  @Column({ type: 'text', name: 'body_sha256' })
  bodySha256!: string;

  @Column({ type: 'text' })
  state!: 'pending' | 'acknowledged';

  @Column({ type: 'uuid', name: 'claim_token' })
  claimToken!: string;

  @Column({ type: 'timestamptz', name: 'claimed_at' })
  claimedAt!: Date;

  @Column({ type: 'text', nullable: true })
  topic!: string | null;

  @Column({ type: 'integer', nullable: true })
  partition!: number | null;

  @Column({ type: 'bigint', name: 'kafka_offset', nullable: true, transformer: bigintTransformer })
  kafkaOffset!: bigint | null;

  @Column({ type: 'timestamptz', name: 'acknowledged_at', nullable: true })
  acknowledgedAt!: Date | null;
}

/**
 * The datanet a contribution was submitted to, recorded when the gateway accepts its
 * ContributionSubmitted (before sending it); a contribution id belongs to one datanet for good.
 */
@Entity({ name: 'contribution_datanets' })
export class ContributionDatanetRow {
  @PrimaryColumn({ type: 'text', name: 'contribution_id' })
  contributionId!: string;

  @Column({ type: 'text', name: 'datanet_id' })
  datanetId!: string;

  @Column({ type: 'timestamptz', name: 'recorded_at' })
  recordedAt!: Date;
}
