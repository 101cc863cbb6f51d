import type { DataSource } from 'typeorm';
import { copyDecisionRows } from './decision-copy';
import type { DecidedInference } from './repeated-inferences';

export interface DecisionRow {
  readonly inferenceId: string;
  readonly inferenceOffset: bigint;
  readonly eventId: string;
  readonly method: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
  /** SHA-256 of the inference record's value: tells a re-delivery of the inference from another one under its id. */
  readonly contentHash: Buffer;
}

export interface StoredDecision {
  readonly inferenceId: string;
  readonly method: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
  readonly inferencePartition: number;
  readonly inferenceOffset: bigint;
}

/** Decides a batch, given the ids decided before: the rows to store and what the caller publishes. */
type DecideBatch<T = unknown> = (alreadyDecided: ReadonlyMap<string, DecidedInference>) => {
  rows: DecisionRow[];
  result: T;
};

/** A batch's open transaction (DecisionStore.begin): decided once, or abandoned. */
export interface PendingDecisions {
  /** Decides the batch with the ids decided before, and stores its rows; answers once decided. */
  decide<T>(decide: DecideBatch<T>): Promise<{ result: T; stored: Promise<void> }>;
  /** Rolls the transaction back; settles once it ended. Calling it after `decide` changes nothing. */
  abandon(): Promise<void>;
}

/** Rolls back a batch's transaction that was opened but not decided (its table wait failed). */
class BatchAbandoned extends Error {
  override readonly name = 'BatchAbandoned';
}

/** Thrown when another claim of the partition has superseded ours: this instance is a zombie. */
export class ClaimLost extends Error {
  override readonly name = 'ClaimLost';
}

/**
 * Decided inferences in PostgreSQL: the dedup set that survives restarts and the store `explain` reads.
 *
 * Rows are written before the Kafka transaction that publishes them commits, under the partition's
 * claim token (a fencing token). A claim, taken only after the partition's transactional producer has
 * fenced the previous holder, deletes the rows at or past the group's committed offset: those belong
 * to a transaction that was aborted or never committed, because the consumed offset commits in the
 * same Kafka transaction as the decisions. So a row exists exactly for the decisions Kafka holds.
 */
export class DecisionStore {
  constructor(private readonly dataSource: DataSource) {}

  async claim(partition: number, claimToken: string, committedOffset: bigint | null): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO partition_claims (partition, claim_token) VALUES ($1, $2)
         ON CONFLICT (partition) DO UPDATE SET claim_token = excluded.claim_token, claimed_at = now()`,
        [partition, claimToken],
      );
      const deleted: [unknown[], number] = await manager.query(
        'DELETE FROM decisions WHERE inference_partition = $1 AND inference_offset >= $2',
        [partition, (committedOffset ?? 0n).toString()],
      );
      return deleted[1];
    });
  }

  /**
   * Opens the batch's transaction now: the claim's row locked, and which of these inference ids are
   * decided already (where, and from what content), asked while the caller still waits for the tables.
   * The caller then either `decide`s the batch, which answers once it is decided, with `stored`, which
   * settles when its rows are committed (the caller may publish the result meanwhile but must not commit
   * it before `stored` resolved), or `abandon`s it, which rolls the transaction back. `decide` throws
   * ClaimLost when the claim was taken over.
   *
   * The transaction holds one pooled connection from `begin` to its end, table wait included: the pool
   * must have more connections than partitions decided at once (the configuration checks it), so the
   * table fold and the version reads always find one.
   */
  begin(partition: number, claimToken: string, inferenceIds: readonly string[]): PendingDecisions {
    let proceed!: (decide: DecideBatch | null) => void;
    const decision = new Promise<DecideBatch | null>((resolve) => (proceed = resolve));
    let answer!: (answered: { result: unknown; stored: Promise<void> }) => void;
    let fail!: (error: unknown) => void;
    const answered = new Promise<{ result: unknown; stored: Promise<void> }>((resolve, reject) => {
      answer = resolve;
      fail = reject;
    });
    // Observed here as well: a claim lost while the caller still waits reaches it only through `decide`.
    answered.catch(() => undefined);
    const stored = this.dataSource.transaction(async (manager) => {
      // One round trip: the claim's row locked for the transaction, and the ids decided before.
      const found: Array<{
        claim_token: string | null;
        inference_id: string | null;
        inference_partition: number | null;
        inference_offset: string | null;
        content_hash: Buffer | null;
      }> = await manager.query(
        `WITH claim AS (SELECT claim_token FROM partition_claims WHERE partition = $1 FOR UPDATE)
         SELECT (SELECT claim_token FROM claim) AS claim_token, d.inference_id, d.inference_partition,
                d.inference_offset::text AS inference_offset, d.content_hash
           FROM (SELECT 1) AS one
           LEFT JOIN decisions AS d ON d.inference_id = ANY($2)`,
        [partition, inferenceIds],
      );
      if (found[0]?.claim_token !== claimToken)
        throw new ClaimLost(`partition ${partition} was claimed by another instance`);
      const decided = new Map<string, DecidedInference>();
      for (const row of found)
        if (row.inference_id !== null)
          decided.set(row.inference_id, {
            partition: row.inference_partition!,
            offset: BigInt(row.inference_offset!),
            contentHash: row.content_hash,
          });
      const decide = await decision;
      if (decide === null) throw new BatchAbandoned(`partition ${partition}: the batch was abandoned before deciding`);
      const { rows, result } = decide(decided);
      const durable = stored.then(() => undefined);
      durable.catch(() => undefined); // handled here too: the caller may not be listening yet
      answer({ result, stored: durable });
      await copyDecisionRows(manager, partition, rows);
    });
    // A failure before the answer fails `decide`; one after it reaches the caller through `stored`.
    stored.catch(fail);
    return {
      decide: <T>(decide: DecideBatch<T>) => {
        proceed(decide);
        return answered as Promise<{ result: T; stored: Promise<void> }>;
      },
      abandon: () => {
        proceed(null);
        return stored.then(
          () => undefined,
          () => undefined,
        );
      },
    };
  }

  async find(inferenceId: string): Promise<StoredDecision | null> {
    const rows: Array<{
      inference_id: string;
      method: string;
      value: Buffer;
      headers: string;
      inference_partition: number;
      inference_offset: string;
    }> = await this.dataSource.query(
      'SELECT inference_id, method, value, headers, inference_partition, inference_offset FROM decisions WHERE inference_id = $1',
      [inferenceId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      inferenceId: row.inference_id,
      method: row.method,
      value: row.value,
      headers: storedHeaders(row.inference_id, row.headers),
      inferencePartition: row.inference_partition,
      inferenceOffset: BigInt(row.inference_offset),
    };
  }
}

/** A row's headers, kept as the JSON text the decider wrote (one string per header name). */
export function storedHeaders(inferenceId: string, text: string): Record<string, string> {
  let headers: unknown;
  try {
    headers = JSON.parse(text);
  } catch {
    headers = undefined;
  }
  const valid =
    typeof headers === 'object' &&
    headers !== null &&
    !Array.isArray(headers) &&
    Object.values(headers).every((value) => typeof value === 'string');
  if (!valid)
    throw new TypeError(`decisions.headers of ${inferenceId}: expected the JSON text of an object of strings`);
  return headers as Record<string, string>;
}
