import type { EntityManager } from 'typeorm';
import {
  balanceKey,
  foldLedgerBatch,
  ledgerStateKeys,
  PayoutRejectedError,
  GENESIS_HASH,
  type AppliedEventState,
  type ChainCheckpoint,
  type LedgerBatchEffects,
  type LedgerDeadLetter,
  type LedgerFoldState,
  type LedgerRefusalRule,
  type PayoutState,
} from '@tributary/ledger';
import type { InboundBatch, InboundRecord } from '@tributary/messaging';
import { copyEncodedTogether, CopyEncoder, type CopiedTable } from '@tributary/persistence';
import { COPY_COLUMNS } from './copy-columns';
import { readLedgerRecord, RecordRejected, type LedgerRecord } from './ledger-record';

/** What a batch tells the metrics: applied events, and every refusal with its rule. */
export interface ProjectionObserver {
  rejected(topic: string, rule: string): void;
  /** A ledger invariant would have broken (an overdraft): alert-worthy, not just a malformed record. */
  invariantViolated(rule: string): void;
  /** Re-deliveries of events already applied (same topic, id and content): skipped, and counted here. */
  duplicatesSkipped?(topic: string, count: number): void;
}

/**
 * Applies the fresh records of one partition's batch inside the caller's transaction: decodes them,
 * reads the state the ledger fold needs (event ids applied before, earlier decisions and payouts, the
 * balances payouts draw on, locked, and the chain's checkpoint), folds the batch (libs/ledger,
 * foldLedgerBatch, decides everything) and persists its effects with a handful of set-based statements
 * whatever the batch size: COPY for new rows, one upsert per table adding the fold's deltas.
 * Upserts lock rows in key order, in one order for every writer (producer_credits, accounts,
 * producer_funding), so concurrent partitions queue rather than deadlock.
 * Returns the number of events that changed the ledger.
 */
export async function projectBatch(
  manager: EntityManager,
  batch: InboundBatch,
  records: readonly InboundRecord[],
  observer: ProjectionObserver,
): Promise<number> {
  const decoded = decodeAll(records, (record, error) => {
    batch.reject(record, error.message, error);
    observer.rejected(record.topic, error.rule);
  });
  if (decoded.length === 0) return 0;
  const effects = foldLedgerBatch(decoded, await readFoldState(manager, batch, decoded));
  for (const deadLetter of effects.deadLetters) {
    batch.reject(deadLetter.record.record, deadLetter.reason, refusalError(deadLetter));
    observer.rejected(batch.topic, deadLetter.rule);
    if (deadLetter.rule === 'overdraft') observer.invariantViolated('payout-overdraft');
  }
  if (effects.duplicatesSkipped > 0) observer.duplicatesSkipped?.(batch.topic, effects.duplicatesSkipped);
  if (effects.appliedEvents.length === 0) return 0;
  await writeEffects(manager, batch, effects);
  return effects.appliedEvents.length;
}

function decodeAll(
  records: readonly InboundRecord[],
  reject: (record: InboundRecord, error: RecordRejected) => void,
): LedgerRecord[] {
  const decoded: LedgerRecord[] = [];
  for (const record of records) {
    try {
      decoded.push(readLedgerRecord(record));
    } catch (error) {
      if (!(error instanceof RecordRejected)) throw error;
      reject(record, error);
    }
  }
  return decoded;
}

/** The error a refusal goes to the DLQ with (its class names the kind of rule); the fold words the reason. */
function refusalError(deadLetter: LedgerDeadLetter<LedgerRecord>): Error {
  const rule: LedgerRefusalRule = deadLetter.rule;
  switch (rule) {
    case 'overdraft':
    case 'unknown-payout':
    case 'payout-not-in-flight':
    case 'payout-id-reused':
    case 'account-mismatch':
      return new PayoutRejectedError(rule, deadLetter.reason);
    case 'event-id-conflict':
    case 'inference-already-attributed':
    case 'unknown-policy-version':
      return new RecordRejected(deadLetter.reason, rule);
    default:
      return assertNeverRule(rule);
  }
}

function assertNeverRule(rule: never): never {
  throw new Error(`unhandled refusal rule ${String(rule)}`);
}

/**
 * Reads what the fold needs for the ids the batch names. Balances payouts draw on are read FOR UPDATE
 * in account order (every writer locks accounts in that order, so concurrent partitions queue
 * instead of deadlocking).
 */
async function readFoldState(
  manager: EntityManager,
  batch: InboundBatch,
  decoded: readonly LedgerRecord[],
): Promise<LedgerFoldState> {
  const keys = ledgerStateKeys(decoded);
  // One round trip for what every batch needs: the event ids applied before, the inferences attributed
  // before and the chain's checkpoint.
  const [known]: Array<{
    applied: Array<{ eventId: string; contentHash: string | null; partition: number; offset: string }>;
    inferences: Array<{ inferenceId: string; eventId: string }>;
    head: { chainSeq: string; headHash: string; eventCount: string } | null;
  }> = await manager.query(
    `SELECT
       (SELECT coalesce(json_agg(json_build_object('eventId', event_id, 'contentHash', encode(content_hash, 'hex'),
                                                   'partition', source_partition, 'offset', source_offset::text)), '[]')
          FROM applied_events WHERE source_topic = $1 AND event_id = ANY($2)) AS applied,
       (SELECT coalesce(json_agg(json_build_object('inferenceId', inference_id, 'eventId', event_id)), '[]')
          FROM inferences WHERE inference_id = ANY($3)) AS inferences,
       (SELECT json_build_object('chainSeq', chain_seq::text, 'headHash', encode(head_hash, 'hex'),
                                 'eventCount', event_count::text)
          FROM checkpoints WHERE source_topic = $1 AND source_partition = $4) AS head`,
    [batch.topic, keys.eventIds, keys.inferenceIds, batch.partition],
  );
  const appliedEvents = new Map<string, AppliedEventState>(
    known!.applied.map((row) => [
      row.eventId,
      {
        sourcePartition: row.partition,
        sourceOffset: BigInt(row.offset),
        contentHash: row.contentHash === null ? null : Buffer.from(row.contentHash, 'hex'),
      },
    ]),
  );
  const attributedInferences = new Map<string, string>(known!.inferences.map((row) => [row.inferenceId, row.eventId]));
  const payouts = new Map<string, PayoutState>();
  const balances = new Map<string, bigint>();
  if (keys.payoutIds.length > 0) {
    const payoutRows: Array<{
      payout_id: string;
      account: string;
      asset: string;
      amount_minor: string;
      status: PayoutState['status'];
    }> = await manager.query(
      'SELECT payout_id, account, asset, amount_minor, status FROM payouts WHERE payout_id = ANY($1)',
      [keys.payoutIds],
    );
    for (const row of payoutRows)
      payouts.set(row.payout_id, {
        payoutId: row.payout_id,
        account: row.account,
        asset: row.asset,
        amountMinor: BigInt(row.amount_minor),
        status: row.status,
      });
    const balanceRows: Array<{ account: string; asset: string; balance_minor: string }> = await manager.query(
      'SELECT account, asset, balance_minor FROM accounts WHERE account = ANY($1) ORDER BY account, asset FOR UPDATE',
      [keys.payoutAccounts],
    );
    for (const row of balanceRows) balances.set(balanceKey(row.account, row.asset), BigInt(row.balance_minor));
  }
  const head = known!.head;
  const chain: ChainCheckpoint = head
    ? {
        chainSeq: Number(head.chainSeq),
        headHash: Buffer.from(head.headHash, 'hex'),
        eventCount: BigInt(head.eventCount),
      }
    : { chainSeq: 0, headHash: GENESIS_HASH, eventCount: 0n };
  return {
    sourceTopic: batch.topic,
    sourcePartition: batch.partition,
    appliedEvents,
    attributedInferences,
    payouts,
    balances,
    chain,
  };
}

/** Persists a batch's effects in the order the locks must be taken; adds the fold's deltas, decides nothing. */
async function writeEffects(
  manager: EntityManager,
  batch: InboundBatch,
  effects: LedgerBatchEffects<LedgerRecord>,
): Promise<void> {
  // The four tables' rows in one round trip, then the checkpoint moves to the new head.
  await copyEncodedTogether(manager, [...entryRows(batch, effects), ...lineageRows(batch, effects)]);
  await moveCheckpoint(manager, batch, effects);
  await writePayouts(manager, effects);
  // The rows every partition's batch touches, last: each partition's transaction holds them only for
  // that one statement and the commit.
  await writeSharedTotals(manager, effects);
}

/** The applied events and their entries, with the chain hashes the fold computed. */
function entryRows(batch: InboundBatch, effects: LedgerBatchEffects<LedgerRecord>): CopiedTable[] {
  const topic = Buffer.from(batch.topic, 'utf8');
  const appliedEvents = new CopyEncoder(COPY_COLUMNS.appliedEvents);
  for (const { eventId, sourceOffset, contentHash } of effects.appliedEvents) {
    appliedEvents.row().text(eventId).utf8(topic).int4(batch.partition).int8(sourceOffset).bytea(contentHash);
  }
  const entries = new CopyEncoder(COPY_COLUMNS.ledgerEntries);
  for (const { transactionId, sourceEventId, sourceOffset, firstChainSeq, postings, hashesLatin1 } of effects.journal) {
    for (let postingIndex = 0; postingIndex < postings.length; postingIndex += 1) {
      const { account, asset, amountMinor } = postings[postingIndex]!;
      entries
        .row()
        .utf8(topic)
        .int4(batch.partition)
        .int8(firstChainSeq + postingIndex)
        .text(transactionId)
        .int2(postingIndex)
        .text(account)
        .text(asset)
        .int8(amountMinor)
        .text(sourceEventId)
        .int8(sourceOffset)
        .byteaLatin1(hashesLatin1[postingIndex]!);
    }
  }
  return [
    { table: 'applied_events', encoder: appliedEvents },
    { table: 'ledger_entries', encoder: entries },
  ];
}

/** The partition's chain checkpoint, at the head the batch's entries reached. */
async function moveCheckpoint(
  manager: EntityManager,
  batch: InboundBatch,
  effects: LedgerBatchEffects<LedgerRecord>,
): Promise<void> {
  const chain = effects.chain!;
  await manager.query(
    `INSERT INTO checkpoints (source_topic, source_partition, chain_seq, head_hash, next_offset, event_count) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (source_topic, source_partition) DO UPDATE SET chain_seq = $3, head_hash = $4, next_offset = $5, event_count = $6, updated_at = now()`,
    [
      batch.topic,
      batch.partition,
      String(chain.chainSeq),
      Buffer.from(chain.headHashLatin1, 'latin1'),
      batch.nextOffset,
      chain.eventCount.toString(),
    ],
  );
}

/** Which inferences and contributions made each balance. */
function lineageRows(batch: InboundBatch, effects: LedgerBatchEffects<LedgerRecord>): CopiedTable[] {
  const inferences = new CopyEncoder(COPY_COLUMNS.inferences);
  const credits = new CopyEncoder(COPY_COLUMNS.contributionCredits);
  for (const { decision, sourceOffset, policyVersion, credits: contributions } of effects.inferences) {
    inferences
      .row()
      .text(decision.inferenceId)
      .text(decision.eventId)
      .text(decision.inferenceEventId)
      .text(decision.modelId)
      .text(decision.consumerId)
      .text(decision.asset)
      .int8(decision.feeMinor)
      .int4(policyVersion)
      .text(batch.topic)
      .int4(batch.partition)
      .int8(sourceOffset);
    for (const credit of contributions) {
      credits
        .row()
        .text(decision.inferenceId)
        .text(credit.account)
        .text(credit.contributionId)
        .text(credit.datanetId)
        .int8(credit.scorePpm)
        .text(decision.asset)
        .int8(credit.amountMinor);
    }
  }
  return [
    { table: 'inferences', encoder: inferences },
    { table: 'contribution_credits', encoder: credits },
  ];
}

async function writePayouts(manager: EntityManager, effects: LedgerBatchEffects<LedgerRecord>): Promise<void> {
  for (const change of effects.payoutChanges) {
    switch (change.type) {
      case 'requested': {
        const { payout } = change;
        await manager.query(
          `INSERT INTO payouts (payout_id, account, asset, amount_minor, epoch, status, requested_event_id) VALUES ($1, $2, $3, $4, $5, 'REQUESTED', $6)`,
          [
            payout.payoutId,
            payout.account,
            payout.asset,
            payout.amountMinor.toString(),
            change.epoch,
            change.requestedEventId,
          ],
        );
        break;
      }
      case 'ended':
        await manager.query(
          'UPDATE payouts SET status = $2, ended_event_id = $3, rail = $4, reference = $5, failure_reason = $6 WHERE payout_id = $1',
          [change.payoutId, change.status, change.endedEventId, change.rail, change.reference, change.failureReason],
        );
        break;
      default:
        assertNeverChange(change);
    }
  }
}

function assertNeverChange(change: never): never {
  throw new Error(`unhandled payout change ${JSON.stringify(change)}`);
}

/**
 * The totals every partition's batch adds to: revenue per model, datanet and contributor, each account's
 * credits per producer, the balances, and each producer's funding (libs/ledger sums the deltas, each
 * list in key order). One statement, so a transaction holds these rows for one round trip and its
 * commit rather than for four; under load every partition's transaction queued on them.
 *
 * The tables are locked in the order they always were (revenue, producer_credits, accounts,
 * producer_funding: the funding rows, one per producer and asset, are the hottest), so writers queue
 * rather than deadlock, also with a payout batch that locked its accounts earlier (readFoldState).
 * PostgreSQL runs data-modifying WITH queries in no promised order, so each upsert reads the row count
 * of the one before it (`prior`), which makes that one run to completion first, empty or not.
 */
async function writeSharedTotals(manager: EntityManager, effects: LedgerBatchEffects<LedgerRecord>): Promise<void> {
  const { revenueDeltas: revenue, producerCreditDeltas: credits, balanceDeltas: balances } = effects;
  const funding = effects.producerFundingDeltas;
  if (revenue.length + credits.length + balances.length + funding.length === 0) return;
  await manager.query(
    `WITH revenue_rows AS (
       INSERT INTO revenue (dimension, dimension_id, asset, revenue_minor, inference_count)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::bigint[])
       ON CONFLICT (dimension, dimension_id, asset) DO UPDATE
         SET revenue_minor = revenue.revenue_minor + excluded.revenue_minor,
             inference_count = revenue.inference_count + excluded.inference_count
       RETURNING 1
     ), credit_rows AS (
       INSERT INTO producer_credits (account, producer, asset, credited_minor)
       SELECT delta.* FROM (SELECT count(*) FROM revenue_rows) AS prior(n),
         LATERAL unnest(CASE WHEN prior.n >= 0 THEN $6::text[] END, $7::text[], $8::text[], $9::numeric[])
           AS delta(account, producer, asset, credited_minor)
       ON CONFLICT (account, producer, asset) DO UPDATE
         SET credited_minor = producer_credits.credited_minor + excluded.credited_minor
       RETURNING 1
     ), account_rows AS (
       INSERT INTO accounts (account, asset, role, owner_id, balance_minor, entry_count)
       SELECT delta.* FROM (SELECT count(*) FROM credit_rows) AS prior(n),
         LATERAL unnest(CASE WHEN prior.n >= 0 THEN $10::text[] END, $11::text[], $12::text[], $13::text[], $14::numeric[], $15::bigint[])
           AS delta(account, asset, role, owner_id, balance_minor, entry_count)
       ON CONFLICT (account, asset) DO UPDATE
         SET balance_minor = accounts.balance_minor + excluded.balance_minor,
             entry_count = accounts.entry_count + excluded.entry_count
       RETURNING 1
     )
     INSERT INTO producer_funding (producer, asset, fees_minor, credited_minor, deposits_minor, chargebacks_minor)
     SELECT delta.* FROM (SELECT count(*) FROM account_rows) AS prior(n),
       LATERAL unnest(CASE WHEN prior.n >= 0 THEN $16::text[] END, $17::text[], $18::numeric[], $19::numeric[], $20::numeric[], $21::numeric[])
         AS delta(producer, asset, fees_minor, credited_minor, deposits_minor, chargebacks_minor)
     ON CONFLICT (producer, asset) DO UPDATE
       SET fees_minor = producer_funding.fees_minor + excluded.fees_minor, credited_minor = producer_funding.credited_minor + excluded.credited_minor,
           deposits_minor = producer_funding.deposits_minor + excluded.deposits_minor, chargebacks_minor = producer_funding.chargebacks_minor + excluded.chargebacks_minor`,
    [
      revenue.map((row) => row.dimension),
      revenue.map((row) => row.dimensionId),
      revenue.map((row) => row.asset),
      revenue.map((row) => row.revenueMinor.toString()),
      revenue.map((row) => String(row.inferenceCount)),
      credits.map((row) => row.account),
      credits.map((row) => row.producer),
      credits.map((row) => row.asset),
      credits.map((row) => row.creditedMinor.toString()),
      balances.map((row) => row.account),
      balances.map((row) => row.asset),
      balances.map((row) => row.role),
      balances.map((row) => row.ownerId),
      balances.map((row) => row.amountMinor.toString()),
      balances.map((row) => String(row.entryCount)),
      funding.map((row) => row.producer),
      funding.map((row) => row.asset),
      funding.map((row) => row.feesMinor.toString()),
      funding.map((row) => row.creditedMinor.toString()),
      funding.map((row) => row.depositsMinor.toString()),
      funding.map((row) => row.chargebacksMinor.toString()),
    ],
  );
}
