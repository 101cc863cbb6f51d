import type { EntityManager } from 'typeorm';
import {
  balanceKey,
  classifyAccount,
  contributionCredits,
  entryHash,
  foldPayouts,
  GENESIS_HASH,
  PayoutRejectedError,
  type LedgerTransaction,
  type PayoutState,
} from '@tributary/ledger';
import type { InboundBatch, InboundRecord } from '@tributary/messaging';
import { copyRows, COPY_COLUMNS, type CopyValue } from './copy-rows';
import { readLedgerRecord, RecordRejected, type LedgerRecord } from './ledger-record';

/** What a batch tells the metrics: applied events, and every refusal with its rule. */
export interface ProjectionObserver {
  rejected(topic: string, rule: string): void;
  /** A ledger invariant would have broken (an overdraft): alert-worthy, not just a malformed record. */
  invariantViolated(rule: string): void;
}

interface Applied {
  readonly item: LedgerRecord;
  readonly transaction: LedgerTransaction;
  readonly payout?: PayoutState;
}

/**
 * Applies the fresh records of one partition's batch inside the caller's transaction: decode, drop
 * event ids applied before, decide payouts against locked balances, chain the entries, and write
 * everything with a handful of set-based statements whatever the batch size.
 * Returns the number of events that changed the ledger.
 */
export async function projectBatch(manager: EntityManager, batch: InboundBatch, records: readonly InboundRecord[], observer: ProjectionObserver): Promise<number> {
  const reject = (record: InboundRecord, error: RecordRejected | PayoutRejectedError) => {
    batch.reject(record, error.message, error);
    observer.rejected(record.topic, error.rule);
    if (error instanceof PayoutRejectedError && error.rule === 'overdraft') observer.invariantViolated('payout-overdraft');
  };
  const fresh = await freshRecords(manager, decodeAll(records, reject));
  const attributions = await acceptAttributions(manager, fresh.filter(isAttribution), reject);
  const payouts = await decidePayouts(manager, fresh.filter(isPayout), reject);
  const applied = [...attributions, ...payouts].sort((left, right) => compareOffsets(left.item.record, right.item.record));
  if (applied.length === 0) return 0;
  await writeEntries(manager, batch, applied);
  await writeLineage(manager, applied);
  await writePayouts(manager, applied);
  await writeBalances(manager, applied);
  return applied.length;
}

function decodeAll(records: readonly InboundRecord[], reject: (record: InboundRecord, error: RecordRejected) => void): LedgerRecord[] {
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

/** Drops repeats of an event id, within the batch and against applied_events: a duplicate has no effect. */
async function freshRecords(manager: EntityManager, decoded: LedgerRecord[]): Promise<LedgerRecord[]> {
  const seen = new Set<string>();
  const unique = decoded.filter((item) => !seen.has(item.eventId) && seen.add(item.eventId));
  if (unique.length === 0) return [];
  const rows: Array<{ event_id: string }> = await manager.query('SELECT event_id FROM applied_events WHERE event_id = ANY($1)', [unique.map((item) => item.eventId)]);
  const applied = new Set(rows.map((row) => row.event_id));
  return unique.filter((item) => !applied.has(item.eventId));
}

type Attribution = Extract<LedgerRecord, { kind: 'attribution' }>;
type Payout = Extract<LedgerRecord, { kind: 'payout' }>;
const isAttribution = (item: LedgerRecord): item is Attribution => item.kind === 'attribution';
const isPayout = (item: LedgerRecord): item is Payout => item.kind === 'payout';

/** One decision per inference: a second decision under another event id is refused, not applied twice. */
async function acceptAttributions(manager: EntityManager, items: Attribution[], reject: (record: InboundRecord, error: RecordRejected) => void): Promise<Applied[]> {
  if (items.length === 0) return [];
  const rows: Array<{ inference_id: string; event_id: string }> = await manager.query(
    'SELECT inference_id, event_id FROM inferences WHERE inference_id = ANY($1)',
    [items.map((item) => item.decision.inferenceId)],
  );
  const decidedBy = new Map(rows.map((row) => [row.inference_id, row.event_id]));
  const accepted: Applied[] = [];
  for (const item of items) {
    const earlier = decidedBy.get(item.decision.inferenceId);
    if (earlier !== undefined) {
      reject(item.record, new RecordRejected(`inferenceId: ${item.decision.inferenceId} was already attributed by event ${earlier}`, 'inference-already-attributed'));
      continue;
    }
    decidedBy.set(item.decision.inferenceId, item.eventId);
    accepted.push({ item, transaction: item.transaction });
  }
  return accepted;
}

/**
 * Payouts are decided against the balances as they stand, read FOR UPDATE in account order (every
 * writer locks accounts in that order, so concurrent partitions queue instead of deadlocking).
 */
async function decidePayouts(manager: EntityManager, items: Payout[], reject: (record: InboundRecord, error: PayoutRejectedError) => void): Promise<Applied[]> {
  if (items.length === 0) return [];
  const payoutRows: Array<{ payout_id: string; account: string; asset: string; amount_minor: string; status: PayoutState['status'] }> = await manager.query(
    'SELECT payout_id, account, asset, amount_minor, status FROM payouts WHERE payout_id = ANY($1)',
    [items.map((item) => item.event.payoutId)],
  );
  const payouts = new Map(payoutRows.map((row) => [row.payout_id, { payoutId: row.payout_id, account: row.account, asset: row.asset, amountMinor: BigInt(row.amount_minor), status: row.status }]));
  const accounts = [...new Set(items.map((item) => item.event.account))].sort();
  const balanceRows: Array<{ account: string; asset: string; balance_minor: string }> = await manager.query(
    'SELECT account, asset, balance_minor FROM accounts WHERE account = ANY($1) ORDER BY account, asset FOR UPDATE',
    [accounts],
  );
  const balances = new Map(balanceRows.map((row) => [balanceKey(row.account, row.asset), BigInt(row.balance_minor)]));
  const results = foldPayouts(items.map((item) => item.event), balances, payouts);
  const accepted: Applied[] = [];
  results.forEach((result, index) => {
    const item = items[index]!;
    if (result instanceof PayoutRejectedError) reject(item.record, result);
    else accepted.push({ item, transaction: result.transaction, payout: result.payout });
  });
  return accepted;
}

function compareOffsets(left: InboundRecord, right: InboundRecord): number {
  const difference = BigInt(left.offset) - BigInt(right.offset);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

/** Entries in offset order, chained from the partition's checkpoint; the checkpoint moves to the new head. */
async function writeEntries(manager: EntityManager, batch: InboundBatch, applied: readonly Applied[]): Promise<void> {
  const heads: Array<{ chain_seq: string; head_hash: Buffer; event_count: string }> = await manager.query(
    'SELECT chain_seq, head_hash, event_count FROM checkpoints WHERE source_topic = $1 AND source_partition = $2',
    [batch.topic, batch.partition],
  );
  let chainSeq = heads[0] ? BigInt(heads[0].chain_seq) : 0n;
  let hash = heads[0]?.head_hash ?? GENESIS_HASH;
  const entryRows: CopyValue[][] = [];
  const appliedRows: CopyValue[][] = [];
  for (const { item, transaction } of applied) {
    const sourceOffset = BigInt(item.record.offset);
    appliedRows.push([item.eventId, batch.topic, batch.partition, sourceOffset]);
    transaction.postings.forEach((posting, postingIndex) => {
      chainSeq += 1n;
      const entry = { sourceTopic: batch.topic, sourcePartition: batch.partition, chainSeq, transactionId: transaction.transactionId, postingIndex, account: posting.account, asset: posting.asset, amountMinor: posting.amountMinor, sourceEventId: transaction.sourceEventId, sourceOffset };
      hash = entryHash(hash, entry);
      entryRows.push([batch.topic, batch.partition, chainSeq, entry.transactionId, postingIndex, entry.account, entry.asset, entry.amountMinor, entry.sourceEventId, sourceOffset, hash]);
    });
  }
  await copyRows(manager, 'applied_events', COPY_COLUMNS.appliedEvents, appliedRows);
  await copyRows(manager, 'ledger_entries', COPY_COLUMNS.ledgerEntries, entryRows);
  const eventCount = BigInt(heads[0]?.event_count ?? 0) + BigInt(applied.length);
  await manager.query(
    `INSERT INTO checkpoints (source_topic, source_partition, chain_seq, head_hash, next_offset, event_count) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (source_topic, source_partition) DO UPDATE SET chain_seq = $3, head_hash = $4, next_offset = $5, event_count = $6, updated_at = now()`,
    [batch.topic, batch.partition, chainSeq.toString(), hash, batch.nextOffset, eventCount.toString()],
  );
}

/** Which inferences and contributions made each balance, and revenue per model, contributor and datanet. */
async function writeLineage(manager: EntityManager, applied: readonly Applied[]): Promise<void> {
  const inferenceRows: CopyValue[][] = [];
  const creditRows: CopyValue[][] = [];
  const revenue = new Map<string, { dimension: string; id: string; asset: string; amountMinor: bigint; count: bigint }>();
  const add = (dimension: string, id: string, asset: string, amountMinor: bigint, countOnce: Set<string>) => {
    const key = JSON.stringify([dimension, id, asset]);
    const row = revenue.get(key) ?? { dimension, id, asset, amountMinor: 0n, count: 0n };
    row.amountMinor += amountMinor;
    if (!countOnce.has(key)) row.count += 1n;
    countOnce.add(key);
    revenue.set(key, row);
  };
  for (const { item } of applied) {
    if (item.kind !== 'attribution') continue;
    const { decision, record } = item;
    inferenceRows.push([decision.inferenceId, decision.eventId, decision.inferenceEventId, decision.modelId, decision.consumerId, decision.asset, decision.feeMinor, decision.policyVersion, record.topic, record.partition, BigInt(record.offset)]);
    const countedHere = new Set<string>();
    add('model', decision.modelId, decision.asset, decision.feeMinor, countedHere);
    for (const posting of decision.postings) {
      const account = classifyAccount(posting.accountId);
      if (account.role === 'contributor') add('contributor', account.ownerId, posting.asset, posting.amountMinor, countedHere);
    }
    for (const credit of contributionCredits(decision)) {
      creditRows.push([decision.inferenceId, credit.account, credit.contributionId, credit.datanetId, credit.scorePpm, decision.asset, credit.amountMinor]);
      add('datanet', credit.datanetId, decision.asset, credit.amountMinor, countedHere);
    }
  }
  await copyRows(manager, 'inferences', COPY_COLUMNS.inferences, inferenceRows);
  await copyRows(manager, 'contribution_credits', COPY_COLUMNS.contributionCredits, creditRows);
  const sums = [...revenue.values()].sort((left, right) => (left.dimension + left.id + left.asset < right.dimension + right.id + right.asset ? -1 : 1));
  if (sums.length === 0) return;
  await manager.query(
    `INSERT INTO revenue (dimension, dimension_id, asset, revenue_minor, inference_count)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
     ON CONFLICT (dimension, dimension_id, asset) DO UPDATE
       SET revenue_minor = revenue.revenue_minor + excluded.revenue_minor, inference_count = revenue.inference_count + excluded.inference_count`,
    [sums.map((row) => row.dimension), sums.map((row) => row.id), sums.map((row) => row.asset), sums.map((row) => row.amountMinor.toString()), sums.map((row) => row.count.toString())],
  );
}

async function writePayouts(manager: EntityManager, applied: readonly Applied[]): Promise<void> {
  for (const { item, payout } of applied) {
    if (item.kind !== 'payout' || !payout) continue;
    const { event } = item;
    if (event.type === 'PayoutRequested') {
      await manager.query(
        `INSERT INTO payouts (payout_id, account, asset, amount_minor, epoch, status, requested_event_id) VALUES ($1, $2, $3, $4, $5, 'REQUESTED', $6)`,
        [payout.payoutId, payout.account, payout.asset, payout.amountMinor.toString(), event.epoch, event.eventId],
      );
    } else {
      await manager.query(
        'UPDATE payouts SET status = $2, ended_event_id = $3, rail = $4, reference = $5, failure_reason = $6 WHERE payout_id = $1',
        [payout.payoutId, payout.status, event.eventId, event.type === 'PayoutSettled' ? event.rail : null, event.type === 'PayoutSettled' ? event.reference : null, event.type === 'PayoutFailed' ? event.reason : null],
      );
    }
  }
}

/** Balance deltas summed per (account, asset) and upserted in key order, last, so row locks are held briefly. */
async function writeBalances(manager: EntityManager, applied: readonly Applied[]): Promise<void> {
  const deltas = new Map<string, { account: string; asset: string; amountMinor: bigint; count: bigint }>();
  for (const { transaction } of applied) {
    for (const { account, asset, amountMinor } of transaction.postings) {
      const key = balanceKey(account, asset);
      const delta = deltas.get(key) ?? { account, asset, amountMinor: 0n, count: 0n };
      delta.amountMinor += amountMinor;
      delta.count += 1n;
      deltas.set(key, delta);
    }
  }
  const rows = [...deltas.values()].sort((left, right) => (left.account < right.account ? -1 : left.account > right.account ? 1 : left.asset < right.asset ? -1 : 1));
  const classes = rows.map((row) => classifyAccount(row.account));
  await manager.query(
    `INSERT INTO accounts (account, asset, role, owner_id, balance_minor, entry_count)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
     ON CONFLICT (account, asset) DO UPDATE
       SET balance_minor = accounts.balance_minor + excluded.balance_minor, entry_count = accounts.entry_count + excluded.entry_count`,
    [rows.map((row) => row.account), rows.map((row) => row.asset), classes.map((c) => c.role), classes.map((c) => c.ownerId), rows.map((row) => row.amountMinor.toString()), rows.map((row) => row.count.toString())],
  );
}
