import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BATCH_EVENTS_MAX, type PublishResult } from '@tributary/producer';
import { GroupCommitter } from './group-commit';
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

interface ClaimRow extends EventFingerprint {
  readonly producerId: string;
  readonly claimToken: string;
}

interface AckRow extends PublishResult {
  readonly claimToken: string;
}

const QUEUED_ROWS_MAX = 100_000;
const overloaded = (queued: number) => new Error(`${queued} idempotency rows are already waiting for the database`);

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
  // Claims and acknowledgements of concurrent requests share statements (one INSERT, one UPDATE per
  // round), so the database costs a request a share of a round trip instead of two of its own.
  private readonly claims = new GroupCommitter<ClaimRow, boolean>(
    (rows) => this.insertClaims(rows),
    BATCH_EVENTS_MAX,
    QUEUED_ROWS_MAX,
    overloaded,
  );
  private readonly acks = new GroupCommitter<AckRow, void>(
    (rows) => this.updateAcks(rows),
    BATCH_EVENTS_MAX,
    QUEUED_ROWS_MAX,
    overloaded,
  );

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async claim(producerId: string, events: readonly EventFingerprint[], claimToken: string): Promise<ClaimOutcome> {
    const inserted = await Promise.all(events.map((event) => this.claims.submit({ ...event, producerId, claimToken })));
    const claimed = new Set(events.filter((_, index) => inserted[index]).map((event) => event.eventId));
    const others = events.filter((event) => !claimed.has(event.eventId));
    if (others.length === 0) return { claimed, replayed: new Map(), conflicting: [], inFlight: [] };
    return this.judgeExisting(producerId, others, claimToken, claimed);
  }

  /** Records where the claimed events landed; only rows still holding this request's claim change. */
  async acknowledge(claimToken: string, results: readonly PublishResult[]): Promise<void> {
    await Promise.all(results.map((result) => this.acks.submit({ ...result, claimToken })));
  }

  /** One INSERT for many claims; a row is claimed when it was inserted with its own token. */
  private async insertClaims(rows: readonly ClaimRow[]): Promise<boolean[]> {
    const inserted = await this.dataSource.query<Array<{ event_id: string; claim_token: string }>>(
      `INSERT INTO ingested_events (event_id, producer_id, event_type, body_sha256, state, claim_token)
       SELECT e.event_id, e.producer_id, e.event_type, e.body_sha256, 'pending', e.claim_token
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::uuid[]) AS e(event_id, producer_id, event_type, body_sha256, claim_token)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id, claim_token`,
      [
        rows.map((row) => row.eventId),
        rows.map((row) => row.producerId),
        rows.map((row) => row.eventType),
        rows.map((row) => row.bodySha256),
        rows.map((row) => row.claimToken),
      ],
    );
    const winners = new Set(inserted.map((row) => `${row.event_id}\u0000${row.claim_token}`));
    return rows.map((row) => winners.has(`${row.eventId}\u0000${row.claimToken}`));
  }

  private async updateAcks(rows: readonly AckRow[]): Promise<void[]> {
    await this.dataSource.query(
      `UPDATE ingested_events AS t
          SET state = 'acknowledged', topic = r.topic, partition = r.partition, kafka_offset = r.kafka_offset, acknowledged_at = now()
         FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int[], $5::bigint[]) AS r(event_id, claim_token, topic, partition, kafka_offset)
        WHERE t.event_id = r.event_id AND t.claim_token = r.claim_token`,
      [
        rows.map((r) => r.eventId),
        rows.map((r) => r.claimToken),
        rows.map((r) => r.topic),
        rows.map((r) => r.partition),
        rows.map((r) => r.offset),
      ],
    );
    return rows.map(() => undefined);
  }

  /** Gives the claims back after a failed send, so a retry can send at once. */
  async release(claimToken: string, eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.dataSource.query(
      `DELETE FROM ingested_events WHERE claim_token = $1::uuid AND state = 'pending' AND event_id = ANY($2::text[])`,
      [claimToken, eventIds],
    );
  }

  private async judgeExisting(
    producerId: string,
    others: readonly EventFingerprint[],
    claimToken: string,
    claimed: Set<string>,
  ): Promise<ClaimOutcome> {
    const rows = await this.dataSource.query<ExistingRow[]>(
      `SELECT event_id, producer_id, body_sha256, state, topic, partition, kafka_offset::text AS kafka_offset,
              claimed_at < now() - ($2::int * interval '1 millisecond') AS stale
         FROM ingested_events WHERE event_id = ANY($1::text[])`,
      [others.map((event) => event.eventId), this.config.GATEWAY_CLAIM_STALE_MS],
    );
    const byId = new Map(rows.map((row) => [row.event_id, row]));
    const replayed = new Map<string, PublishResult>();
    const conflicting: string[] = [];
    const inFlight: string[] = [];
    const stale: string[] = [];
    for (const event of others) {
      const row = byId.get(event.eventId);
      if (row === undefined)
        inFlight.push(event.eventId); // released by a failing request a moment ago
      else if (row.producer_id !== producerId || row.body_sha256 !== event.bodySha256) conflicting.push(event.eventId);
      else if (row.state === 'acknowledged')
        replayed.set(event.eventId, {
          eventId: event.eventId,
          topic: row.topic!,
          partition: row.partition!,
          offset: row.kafka_offset!,
        });
      else if (row.stale) stale.push(event.eventId);
      else inFlight.push(event.eventId);
    }
    if (stale.length > 0) {
      // A claim whose request died (crash, lost connection) is taken over, so the event is not stuck.
      // TypeORM answers an UPDATE with [rows, rowCount].
      const [taken] = await this.dataSource.query<[Array<{ event_id: string }>, number]>(
        `UPDATE ingested_events SET claim_token = $2::uuid, claimed_at = now()
          WHERE event_id = ANY($1::text[]) AND state = 'pending' AND claimed_at < now() - ($3::int * interval '1 millisecond')
          RETURNING event_id`,
        [stale, claimToken, this.config.GATEWAY_CLAIM_STALE_MS],
      );
      const takenIds = new Set(taken.map((row) => row.event_id));
      for (const eventId of stale) {
        if (takenIds.has(eventId)) claimed.add(eventId);
        else inFlight.push(eventId);
      }
    }
    return { claimed, replayed, conflicting, inFlight };
  }
}
