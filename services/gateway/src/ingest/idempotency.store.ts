import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PublishResult } from '@tributary/producer';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';

export interface EventFingerprint {
  readonly eventId: string;
  readonly eventType: string;
  /** SHA-256 of the event type and its Avro encoding. */
  readonly bodySha256: string;
}

export interface ClaimOutcome {
  /** Event ids this request now owns: it sends them, then records where they landed. */
  readonly claimed: ReadonlySet<string>;
  /** Event ids Kafka already acknowledged with the same body: their original results. */
  readonly replayed: ReadonlyMap<string, PublishResult>;
  /** Event ids already used with another body or by another producer. */
  readonly conflicting: readonly string[];
  /** Event ids another request is sending right now. */
  readonly inFlight: readonly string[];
}

interface ExistingRow {
  event_id: string;
  producer_id: string;
  body_sha256: string;
  state: 'pending' | 'acknowledged';
  topic: string | null;
  partition: number | null;
  kafka_offset: string | null;
  stale: boolean;
}

/**
 * The idempotency records (table gateway.ingested_events). An event id is claimed ('pending') before
 * its event is sent and marked 'acknowledged' with its topic, partition and offset after Kafka acked.
 * The claim, not a lock held across the send, is what makes two concurrent requests with one id safe:
 * the second sees the claim and gets a 409 to retry, so a different body can never slip into Kafka
 * under an id already in use.
 */
@Injectable()
export class IdempotencyStore {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async claim(producerId: string, events: readonly EventFingerprint[], claimToken: string): Promise<ClaimOutcome> {
    const inserted = (await this.dataSource.query(
      `INSERT INTO ingested_events (event_id, producer_id, event_type, body_sha256, state, claim_token)
       SELECT e.event_id, $2, e.event_type, e.body_sha256, 'pending', $3::uuid
         FROM unnest($1::text[], $4::text[], $5::text[]) AS e(event_id, event_type, body_sha256)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id`,
      [events.map((event) => event.eventId), producerId, claimToken, events.map((event) => event.eventType), events.map((event) => event.bodySha256)],
    )) as Array<{ event_id: string }>;
    const claimed = new Set(inserted.map((row) => row.event_id));
    const others = events.filter((event) => !claimed.has(event.eventId));
    if (others.length === 0) return { claimed, replayed: new Map(), conflicting: [], inFlight: [] };
    return this.judgeExisting(producerId, others, claimToken, claimed);
  }

  /** Records where the claimed events landed; only rows still holding this request's claim change. */
  async acknowledge(claimToken: string, results: readonly PublishResult[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE ingested_events AS t
          SET state = 'acknowledged', topic = r.topic, partition = r.partition, kafka_offset = r.kafka_offset, acknowledged_at = now()
         FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[]) AS r(event_id, topic, partition, kafka_offset)
        WHERE t.event_id = r.event_id AND t.claim_token = $1::uuid`,
      [claimToken, results.map((r) => r.eventId), results.map((r) => r.topic), results.map((r) => r.partition), results.map((r) => r.offset)],
    );
  }

  /** Gives the claims back after a failed send, so a retry can send at once. */
  async release(claimToken: string, eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.dataSource.query(`DELETE FROM ingested_events WHERE claim_token = $1::uuid AND state = 'pending' AND event_id = ANY($2::text[])`, [claimToken, eventIds]);
  }

  private async judgeExisting(producerId: string, others: readonly EventFingerprint[], claimToken: string, claimed: Set<string>): Promise<ClaimOutcome> {
    const rows = (await this.dataSource.query(
      `SELECT event_id, producer_id, body_sha256, state, topic, partition, kafka_offset::text AS kafka_offset,
              claimed_at < now() - ($2::int * interval '1 millisecond') AS stale
         FROM ingested_events WHERE event_id = ANY($1::text[])`,
      [others.map((event) => event.eventId), this.config.GATEWAY_CLAIM_STALE_MS],
    )) as ExistingRow[];
    const byId = new Map(rows.map((row) => [row.event_id, row]));
    const replayed = new Map<string, PublishResult>();
    const conflicting: string[] = [];
    const inFlight: string[] = [];
    const stale: string[] = [];
    for (const event of others) {
      const row = byId.get(event.eventId);
      if (row === undefined) inFlight.push(event.eventId); // released by a failing request a moment ago
      else if (row.producer_id !== producerId || row.body_sha256 !== event.bodySha256) conflicting.push(event.eventId);
      else if (row.state === 'acknowledged') replayed.set(event.eventId, { eventId: event.eventId, topic: row.topic!, partition: row.partition!, offset: row.kafka_offset! });
      else if (row.stale) stale.push(event.eventId);
      else inFlight.push(event.eventId);
    }
    if (stale.length > 0) {
      // A claim whose request died (crash, lost connection) is taken over, so the event is not stuck.
      // TypeORM answers an UPDATE with [rows, rowCount].
      const [taken] = (await this.dataSource.query(
        `UPDATE ingested_events SET claim_token = $2::uuid, claimed_at = now()
          WHERE event_id = ANY($1::text[]) AND state = 'pending' AND claimed_at < now() - ($3::int * interval '1 millisecond')
          RETURNING event_id`,
        [stale, claimToken, this.config.GATEWAY_CLAIM_STALE_MS],
      )) as [Array<{ event_id: string }>, number];
      const takenIds = new Set(taken.map((row) => row.event_id));
      for (const eventId of stale) (takenIds.has(eventId) ? claimed.add(eventId) : inFlight.push(eventId));
    }
    return { claimed, replayed, conflicting, inFlight };
  }
}
