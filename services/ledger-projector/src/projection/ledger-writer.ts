import type { EntityManager } from 'typeorm';
import {
  balanceKey,
  classifyAccount,
  contributionCredits,
  EntryChain,
  foldPayouts,
  GENESIS_HASH,
  PayoutRejectedError,
  type LedgerTransaction,
  type PayoutState,
} from '@tributary/ledger';
import type { InboundBatch, InboundRecord } from '@tributary/messaging';
import { copyEncoded, CopyEncoder, COPY_COLUMNS } from './copy-rows';
import { producerOf, readLedgerRecord, RecordRejected, type LedgerRecord } from './ledger-record';

/** What a batch tells the metrics: applied events, and every refusal with its rule. */
export interface ProjectionObserver {
  rejected(topic: string, rule: string): void;
  /** A ledger invariant would have broken (an overdraft): alert-worthy, not just a malformed record. */
  invariantViolated(rule: string): void;
  /** Re-deliveries of events already applied (same topic, id and content): skipped, and counted here. */
  duplicatesSkipped?(topic: string, count: number): void;
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
 * Funding events (deposits, chargebacks) make no entries: they are recorded as applied (dedup, offsets,
 * the partition's event count in checkpoints, its chain staying empty) and add to their producer's
 * totals in producer_funding, which decisions feed too (fees and credits, with producer_credits per
 * earning account): one upsert per table per batch (a row per key), in key order; producer_credits
 * before the balances, producer_funding after them.
 * Returns the number of events that changed the ledger.
 */
export async function projectBatch(manager: EntityManager, batch: InboundBatch, records: readonly InboundRecord[], observer: ProjectionObserver): Promise<number> {
  const reject = (record: InboundRecord, error: RecordRejected | PayoutRejectedError) => {
    batch.reject(record, error.message, error);
    observer.rejected(record.topic, error.rule);
    if (error instanceof PayoutRejectedError && error.rule === 'overdraft') observer.invariantViolated('payout-overdraft');
  };
  const fresh = await freshRecords(manager, batch.topic, decodeAll(records, reject), reject, observer);
  const attributions = await acceptAttributions(manager, fresh.filter(isAttribution), reject);
  const payouts = await decidePayouts(manager, fresh.filter(isPayout), reject);
  const funding = fresh.filter(isFunding).map((item): Applied => ({ item, transaction: { transactionId: `funding:${item.eventId}`, sourceEventId: item.eventId, postings: [] } }));
  // A batch is one partition of one topic, so all but one of the three are empty; each is in offset order.
  const parts = [attributions, payouts, funding].filter((part) => part.length > 0);
  const applied = parts.length <= 1 ? (parts[0] ?? []) : parts.flat().sort((left, right) => compareOffsets(left.item.record, right.item.record));
  if (applied.length === 0) return 0;
  await writeEntries(manager, batch, applied);
  await writeLineage(manager, applied);
  await writePayouts(manager, applied);
  const producerTotals = sumProducerTotals(applied);
  await writeProducerCredits(manager, producerTotals.credits);
  await writeBalances(manager, applied);
  // The hottest rows (one per producer and asset, touched by every partition's batch) are locked last.
  await writeProducerFunding(manager, producerTotals.funding);
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

/**
 * Drops repeats of an event id, within the batch and against applied_events, where ids are scoped by
 * topic. A repeat with the same content (the SHA-256 of the record's value) is a re-delivery: skipped
 * and counted. A repeat with other content is a conflict: one id cannot name two events, so the later
 * record goes to the DLQ with both hashes, and the event applied first stands.
 */
async function freshRecords(
  manager: EntityManager,
  topic: string,
  decoded: LedgerRecord[],
  reject: (record: InboundRecord, error: RecordRejected) => void,
  observer: ProjectionObserver,
): Promise<LedgerRecord[]> {
  if (decoded.length === 0) return [];
  const rows: Array<{ event_id: string; content_hash: Buffer | null; source_partition: number; source_offset: string }> = await manager.query(
    'SELECT event_id, content_hash, source_partition, source_offset::text FROM applied_events WHERE source_topic = $1 AND event_id = ANY($2)',
    [topic, [...new Set(decoded.map((item) => item.eventId))]],
  );
  // Where each id was first seen: applied before (its row), or earlier in this batch (named only on a conflict).
  type FirstSeen = { readonly partition: number; readonly offset: string; readonly hash: Buffer | null };
  const firstSeen = new Map<string, FirstSeen>(rows.map((row) => [row.event_id, { partition: row.source_partition, offset: row.source_offset, hash: row.content_hash }]));
  const fresh: LedgerRecord[] = [];
  let duplicates = 0;
  for (const item of decoded) {
    const first = firstSeen.get(item.eventId);
    if (first === undefined) {
      firstSeen.set(item.eventId, { partition: item.record.partition, offset: item.record.offset, hash: item.contentHash });
      fresh.push(item);
    } else if (first.hash === null || first.hash.equals(item.contentHash)) {
      // Rows applied before hashes were kept have none: their repeats count as re-deliveries.
      duplicates += 1;
    } else {
      reject(item.record, eventIdConflict(item, `${topic}[${first.partition}]@${first.offset}`, first.hash));
    }
  }
  if (duplicates > 0) observer.duplicatesSkipped?.(topic, duplicates);
  return fresh;
}

function eventIdConflict(item: LedgerRecord, appliedAt: string, appliedHash: Buffer): RecordRejected {
  return new RecordRejected(
    `eventId: ${item.eventId} was already applied from ${appliedAt} with content sha256:${appliedHash.toString('hex')}; ` +
      `this record's content is sha256:${item.contentHash.toString('hex')}, and one id cannot name two events`,
    'event-id-conflict',
  );
}

type Attribution = Extract<LedgerRecord, { kind: 'attribution' }>;
type Payout = Extract<LedgerRecord, { kind: 'payout' }>;
const isAttribution = (item: LedgerRecord): item is Attribution => item.kind === 'attribution';
const isPayout = (item: LedgerRecord): item is Payout => item.kind === 'payout';
const isFunding = (item: LedgerRecord): item is Extract<LedgerRecord, { kind: 'funding' }> => item.kind === 'funding';

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
  const chain = new EntryChain(batch.topic, batch.partition, heads[0] ? Number(heads[0].chain_seq) : 0, heads[0]?.head_hash ?? GENESIS_HASH);
  const topic = Buffer.from(batch.topic, 'utf8');
  const entries = new CopyEncoder(COPY_COLUMNS.ledgerEntries);
  const appliedEvents = new CopyEncoder(COPY_COLUMNS.appliedEvents);
  for (const { item, transaction } of applied) {
    const sourceOffset = Number(item.record.offset);
    appliedEvents.row().text(item.eventId).utf8(topic).int4(batch.partition).int8(sourceOffset).bytea(item.contentHash);
    const { transactionId, sourceEventId, postings } = transaction;
    chain.transaction(transactionId, sourceEventId, sourceOffset);
    for (let postingIndex = 0; postingIndex < postings.length; postingIndex += 1) {
      const { account, asset, amountMinor } = postings[postingIndex]!;
      const hash = chain.append(postingIndex, account, asset, amountMinor);
      entries.row().utf8(topic).int4(batch.partition).int8(chain.chainSeq).text(transactionId).int2(postingIndex).text(account).text(asset).int8(amountMinor).text(sourceEventId).int8(sourceOffset).byteaLatin1(hash);
    }
  }
  await copyEncoded(manager, 'applied_events', appliedEvents);
  await copyEncoded(manager, 'ledger_entries', entries);
  const eventCount = BigInt(heads[0]?.event_count ?? 0) + BigInt(applied.length);
  await manager.query(
    `INSERT INTO checkpoints (source_topic, source_partition, chain_seq, head_hash, next_offset, event_count) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (source_topic, source_partition) DO UPDATE SET chain_seq = $3, head_hash = $4, next_offset = $5, event_count = $6, updated_at = now()`,
    [batch.topic, batch.partition, String(chain.chainSeq), chain.head, batch.nextOffset, eventCount.toString()],
  );
}

interface RevenueSum {
  readonly dimension: string;
  readonly id: string;
  readonly asset: string;
  amountMinor: bigint;
  count: number;
  /** The last inference counted, so an inference counts once per row however many credits it adds. */
  countedFor: number;
}

/**
 * Running sums by two string keys (id and asset), as a map of maps: a lookup per posting builds no
 * composite key string, which at nine postings an event was a good part of a rebuild's garbage.
 */
class SumsByKeys<T> {
  private readonly rows = new Map<string, Map<string, T>>();

  get(first: string, second: string): T | undefined {
    return this.rows.get(first)?.get(second);
  }

  set(first: string, second: string, row: T): T {
    let inner = this.rows.get(first);
    if (!inner) this.rows.set(first, (inner = new Map()));
    inner.set(second, row);
    return row;
  }

  isEmpty(): boolean {
    return this.rows.size === 0;
  }

  *values(): IterableIterator<T> {
    for (const inner of this.rows.values()) yield* inner.values();
  }
}

/** Which inferences and contributions made each balance, and revenue per model, contributor and datanet. */
async function writeLineage(manager: EntityManager, applied: readonly Applied[]): Promise<void> {
  const inferences = new CopyEncoder(COPY_COLUMNS.inferences);
  const credits = new CopyEncoder(COPY_COLUMNS.contributionCredits);
  // Contributor sums are keyed by account id (`contributor:<id>`): the id is cut out once per row, not per posting.
  const revenue = { model: new SumsByKeys<RevenueSum>(), contributor: new SumsByKeys<RevenueSum>(), datanet: new SumsByKeys<RevenueSum>() };
  let inference = 0;
  const add = (dimension: keyof typeof revenue, key: string, asset: string, amountMinor: bigint) => {
    const sums = revenue[dimension];
    const row = sums.get(key, asset) ?? sums.set(key, asset, { dimension, id: dimension === 'contributor' ? key.slice(CONTRIBUTOR_PREFIX.length) : key, asset, amountMinor: 0n, count: 0, countedFor: -1 });
    row.amountMinor += amountMinor;
    if (row.countedFor !== inference) row.count += 1;
    row.countedFor = inference;
  };
  for (const { item } of applied) {
    if (item.kind !== 'attribution') continue;
    inference += 1;
    const { decision, record } = item;
    inferences.row().text(decision.inferenceId).text(decision.eventId).text(decision.inferenceEventId).text(decision.modelId).text(decision.consumerId).text(decision.asset)
      .int8(decision.feeMinor).int4(decision.policyVersion).text(record.topic).int4(record.partition).int8(Number(record.offset));
    add('model', decision.modelId, decision.asset, decision.feeMinor);
    for (const posting of decision.postings) {
      // classifyAccount's contributor rule (`contributor:<id>`, id not empty), without building its result per posting.
      const { accountId } = posting;
      if (accountId.length > CONTRIBUTOR_PREFIX.length && accountId.startsWith(CONTRIBUTOR_PREFIX)) add('contributor', accountId, posting.asset, posting.amountMinor);
    }
    for (const credit of contributionCredits(decision)) {
      credits.row().text(decision.inferenceId).text(credit.account).text(credit.contributionId).text(credit.datanetId).int8(credit.scorePpm).text(decision.asset).int8(credit.amountMinor);
      add('datanet', credit.datanetId, decision.asset, credit.amountMinor);
    }
  }
  await copyEncoded(manager, 'inferences', inferences);
  await copyEncoded(manager, 'contribution_credits', credits);
  const sums = [...revenue.model.values(), ...revenue.contributor.values(), ...revenue.datanet.values()].sort((left, right) => compareKeys(left.dimension, right.dimension) || compareKeys(left.id, right.id) || compareKeys(left.asset, right.asset));
  if (sums.length === 0) return;
  await manager.query(
    `INSERT INTO revenue (dimension, dimension_id, asset, revenue_minor, inference_count)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::bigint[])
     ON CONFLICT (dimension, dimension_id, asset) DO UPDATE
       SET revenue_minor = revenue.revenue_minor + excluded.revenue_minor, inference_count = revenue.inference_count + excluded.inference_count`,
    [sums.map((row) => row.dimension), sums.map((row) => row.id), sums.map((row) => row.asset), sums.map((row) => row.amountMinor.toString()), sums.map((row) => String(row.count))],
  );
}

const CONTRIBUTOR_PREFIX = 'contributor:';
const compareKeys = (left: string, right: string): number => (left < right ? -1 : left > right ? 1 : 0);

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

/** One producer's totals in one asset as a batch changes them (producer_funding). */
export interface FundingDelta {
  readonly producer: string;
  readonly asset: string;
  feesMinor: bigint;
  creditedMinor: bigint;
  depositsMinor: bigint;
  chargebacksMinor: bigint;
}

/** What one earning account was credited from one producer's inferences in one asset, in a batch (producer_credits). */
export interface CreditDelta {
  readonly account: string;
  readonly producer: string;
  readonly asset: string;
  creditedMinor: bigint;
}

/**
 * The per-producer totals the backed-credit rules read: fees and credits of decisions by their
 * producer (a decision with none under UNKNOWN_PRODUCER), deposits and chargebacks of funding events.
 * Summed per key in the batch, then one upsert per table in key order (as balances, so concurrent
 * partitions queue on a row rather than deadlock; every writer takes producer_credits, accounts,
 * producer_funding in that order); sums only, so the result does not depend on the
 * order in which partitions and topics are applied, live or in a rebuild.
 */
export function sumProducerTotals(applied: ReadonlyArray<{ readonly item: LedgerRecord }>): { funding: FundingDelta[]; credits: CreditDelta[] } {
  const funding = new SumsByKeys<FundingDelta>();
  /** Keyed producer → (account, asset): a batch rarely has more than a few producers. */
  const credits = new Map<string, SumsByKeys<CreditDelta>>();
  const fundingOf = (producer: string, asset: string) =>
    funding.get(producer, asset) ?? funding.set(producer, asset, { producer, asset, feesMinor: 0n, creditedMinor: 0n, depositsMinor: 0n, chargebacksMinor: 0n });
  for (const { item } of applied) {
    if (item.kind === 'attribution') {
      const { decision } = item;
      const producer = producerOf(decision);
      let byAccount = credits.get(producer);
      if (!byAccount) credits.set(producer, (byAccount = new SumsByKeys()));
      for (const { accountId, asset, amountMinor } of decision.postings) {
        const credit = byAccount.get(accountId, asset);
        if (credit) credit.creditedMinor += amountMinor;
        else byAccount.set(accountId, asset, { account: accountId, producer, asset, creditedMinor: amountMinor });
        // A decision's postings are in its asset (the balance rule holds per asset); summed per posting all the same.
        fundingOf(producer, asset).creditedMinor += amountMinor;
      }
      fundingOf(producer, decision.asset).feesMinor += decision.feeMinor;
    } else if (item.kind === 'funding') {
      const { type, producer, asset, amountMinor } = item.funding;
      const row = fundingOf(producer, asset);
      if (type === 'deposit') row.depositsMinor += amountMinor;
      else row.chargebacksMinor += amountMinor;
    }
  }
  const creditRows: CreditDelta[] = [];
  for (const byAccount of credits.values()) creditRows.push(...byAccount.values());
  return {
    funding: [...funding.values()].sort((left, right) => compareKeys(left.producer, right.producer) || compareKeys(left.asset, right.asset)),
    credits: creditRows.sort((left, right) => compareKeys(left.account, right.account) || compareKeys(left.producer, right.producer) || compareKeys(left.asset, right.asset)),
  };
}

async function writeProducerCredits(manager: EntityManager, rows: readonly CreditDelta[]): Promise<void> {
  if (rows.length === 0) return;
  await manager.query(
    `INSERT INTO producer_credits (account, producer, asset, credited_minor)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[])
     ON CONFLICT (account, producer, asset) DO UPDATE SET credited_minor = producer_credits.credited_minor + excluded.credited_minor`,
    [rows.map((row) => row.account), rows.map((row) => row.producer), rows.map((row) => row.asset), rows.map((row) => row.creditedMinor.toString())],
  );
}

async function writeProducerFunding(manager: EntityManager, rows: readonly FundingDelta[]): Promise<void> {
  if (rows.length === 0) return;
  await manager.query(
    `INSERT INTO producer_funding (producer, asset, fees_minor, credited_minor, deposits_minor, chargebacks_minor)
     SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[])
     ON CONFLICT (producer, asset) DO UPDATE
       SET fees_minor = producer_funding.fees_minor + excluded.fees_minor, credited_minor = producer_funding.credited_minor + excluded.credited_minor,
           deposits_minor = producer_funding.deposits_minor + excluded.deposits_minor, chargebacks_minor = producer_funding.chargebacks_minor + excluded.chargebacks_minor`,
    [
      rows.map((row) => row.producer), rows.map((row) => row.asset), rows.map((row) => row.feesMinor.toString()),
      rows.map((row) => row.creditedMinor.toString()), rows.map((row) => row.depositsMinor.toString()), rows.map((row) => row.chargebacksMinor.toString()),
    ],
  );
}

/** Balance deltas summed per (account, asset) and upserted in key order, last, so row locks are held briefly. */
async function writeBalances(manager: EntityManager, applied: readonly Applied[]): Promise<void> {
  const deltas = new SumsByKeys<{ account: string; asset: string; amountMinor: bigint; count: number }>();
  for (const { transaction } of applied) {
    for (const { account, asset, amountMinor } of transaction.postings) {
      const delta = deltas.get(account, asset);
      if (delta) {
        delta.amountMinor += amountMinor;
        delta.count += 1;
      } else {
        deltas.set(account, asset, { account, asset, amountMinor, count: 1 });
      }
    }
  }
  if (deltas.isEmpty()) return; // funding events alone: no entries, no balance moves
  const rows = [...deltas.values()].sort((left, right) => compareKeys(left.account, right.account) || compareKeys(left.asset, right.asset));
  const classes = rows.map((row) => classifyAccount(row.account));
  await manager.query(
    `INSERT INTO accounts (account, asset, role, owner_id, balance_minor, entry_count)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::bigint[])
     ON CONFLICT (account, asset) DO UPDATE
       SET balance_minor = accounts.balance_minor + excluded.balance_minor, entry_count = accounts.entry_count + excluded.entry_count`,
    [rows.map((row) => row.account), rows.map((row) => row.asset), classes.map((c) => c.role), classes.map((c) => c.ownerId), rows.map((row) => row.amountMinor.toString()), rows.map((row) => String(row.count))],
  );
}
