import { EntryChain, GENESIS_HASH } from './chain';
import type { LedgerTransaction } from './ledger-transaction';
import { contributionCredits, type ContributionCredit, type DecisionLineageFacts } from './lineage';
import { accountPrefix, classifyAccount, isPolicyVersion, type AccountRole } from '@tributary/attribution';
import { foldPayouts, PayoutRejectedError, type PayoutEvent, type PayoutState, type PayoutStatus } from './payouts';

/**
 * The ledger's projection fold: what one partition's batch of decoded events does to the read model,
 * computed from the events and the state they need, as plain data. The projector reads that state,
 * calls foldLedgerBatch and persists the effects; it decides nothing.
 */

/** What the fold needs of one attribution decision (the wire's InferenceAttributed has all of it). */
export interface AttributionFacts extends DecisionLineageFacts {
  readonly eventId: string;
  readonly inferenceId: string;
  readonly inferenceEventId: string;
  readonly modelId: string;
  readonly consumerId: string;
  readonly asset: string;
  readonly feeMinor: bigint;
  /** The inference's source; absent on decisions written before InferenceAttributed v3. */
  readonly producer?: string | null;
  readonly postings: ReadonlyArray<{
    readonly accountId: string;
    readonly asset: string;
    readonly amountMinor: bigint;
  }>;
}

/**
 * A funding event as the ledger keeps it: money a producer paid in (deposit) or had taken back
 * (chargeback), in one asset. Only its totals per (producer, asset) are kept (producer_funding).
 */
export interface FundingMovement {
  readonly type: 'deposit' | 'chargeback';
  readonly producer: string;
  readonly asset: string;
  readonly amountMinor: bigint;
}

/** Decisions written before InferenceAttributed v3 name no producer; they count under this one, which no funding event can name. */
export const UNKNOWN_PRODUCER = '';

/** The producer a decision's credits are backed by: its inference's source, or UNKNOWN_PRODUCER. */
export const producerOf = (decision: Pick<AttributionFacts, 'producer'>): string =>
  decision.producer ?? UNKNOWN_PRODUCER;

/** One event the ledger applies; an attribution carries its transaction (the balance rule is checked as it is read). */
export type LedgerEvent =
  | { readonly type: 'attribution'; readonly decision: AttributionFacts; readonly transaction: LedgerTransaction }
  | { readonly type: 'payout'; readonly payout: PayoutEvent }
  | { readonly type: 'funding'; readonly funding: FundingMovement };

/** One decoded record of the batch, in offset order. Callers may extend it (the projector keeps its wire record on it). */
export interface LedgerFoldRecord {
  readonly eventId: string;
  readonly sourceOffset: bigint;
  /** SHA-256 of the record's value: a re-delivery of an event has the same, another event under a reused id does not. */
  readonly contentHash: Buffer;
  readonly event: LedgerEvent;
}

/** An event id applied before, where, and with what content (null: applied before hashes were kept). */
export interface AppliedEventState {
  readonly sourcePartition: number;
  readonly sourceOffset: bigint;
  readonly contentHash: Buffer | null;
}

/** Where a partition's chain stands: its last position and hash, and how many events it has applied. */
export interface ChainCheckpoint {
  readonly chainSeq: number;
  readonly headHash: Buffer;
  readonly eventCount: bigint;
}

/** The state a batch is folded over: read by the caller for the ids the batch names (ledgerStateKeys). */
export interface LedgerFoldState {
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  /** Event ids of this topic applied before, among those the batch names. */
  readonly appliedEvents: ReadonlyMap<string, AppliedEventState>;
  /** Inferences attributed before, among those the batch names: inference id → the deciding event's id. */
  readonly attributedInferences: ReadonlyMap<string, string>;
  /** Payouts requested before, among those the batch names. */
  readonly payouts: ReadonlyMap<string, PayoutState>;
  /** Balances payouts are checked against, by balanceKey, for every account the batch's payout events name. */
  readonly balances: ReadonlyMap<string, bigint>;
  readonly chain: ChainCheckpoint;
}

/** The state of a partition nothing was applied to yet: an empty chain from the genesis hash. */
export function initialLedgerState(sourceTopic: string, sourcePartition: number): LedgerFoldState {
  return {
    sourceTopic,
    sourcePartition,
    appliedEvents: new Map(),
    attributedInferences: new Map(),
    payouts: new Map(),
    balances: new Map(),
    chain: { chainSeq: 0, headHash: GENESIS_HASH, eventCount: 0n },
  };
}

/** The ids whose state a batch needs: what the caller reads (and locks) before folding. */
export interface LedgerStateKeys {
  readonly eventIds: string[];
  readonly inferenceIds: string[];
  readonly payoutIds: string[];
  /** Sorted: every writer locks balances in account order, so concurrent partitions queue instead of deadlocking. */
  readonly payoutAccounts: string[];
}

export function ledgerStateKeys(records: readonly LedgerFoldRecord[]): LedgerStateKeys {
  const eventIds = new Set<string>();
  const inferenceIds: string[] = [];
  const payoutIds: string[] = [];
  const payoutAccounts = new Set<string>();
  for (const { eventId, event } of records) {
    eventIds.add(eventId);
    switch (event.type) {
      case 'attribution':
        inferenceIds.push(event.decision.inferenceId);
        break;
      case 'payout':
        payoutIds.push(event.payout.payoutId);
        payoutAccounts.add(event.payout.account);
        break;
      case 'funding':
        break;
      default:
        assertNeverEvent(event);
    }
  }
  return { eventIds: [...eventIds], inferenceIds, payoutIds, payoutAccounts: [...payoutAccounts].sort() };
}

/** Why the fold refuses a record: payout rules, a reused id or inference, a policy the ledger does not know. */
export type LedgerRefusalRule =
  PayoutRejectedError['rule'] | 'event-id-conflict' | 'inference-already-attributed' | 'unknown-policy-version';

export interface LedgerDeadLetter<R> {
  readonly record: R;
  readonly rule: LedgerRefusalRule;
  readonly reason: string;
}

/** One transaction as journal entries: posting i is entry firstChainSeq + i, with hashesLatin1[i] its chain hash. */
export interface JournalTransaction {
  readonly transactionId: string;
  readonly sourceEventId: string;
  readonly sourceOffset: bigint;
  readonly firstChainSeq: number;
  readonly postings: LedgerTransaction['postings'];
  /** Each entry's SHA-256 as a latin1 string (one char per byte), as EntryChain gives it. */
  readonly hashesLatin1: readonly string[];
}

export interface AppliedEventRow {
  readonly eventId: string;
  readonly sourceOffset: bigint;
  readonly contentHash: Buffer;
}

/** The partition's chain after the batch: written only when the batch applied an event. */
export interface ChainUpdate {
  readonly chainSeq: number;
  readonly headHashLatin1: string;
  readonly eventCount: bigint;
}

export interface BalanceDelta {
  readonly account: string;
  readonly asset: string;
  readonly role: AccountRole;
  readonly ownerId: string;
  readonly amountMinor: bigint;
  readonly entryCount: number;
}

export type RevenueDimension = 'model' | 'contributor' | 'datanet';

export interface RevenueDelta {
  readonly dimension: RevenueDimension;
  readonly dimensionId: string;
  readonly asset: string;
  readonly revenueMinor: bigint;
  /** Inferences that added to the row, each counted once however many credits it adds. */
  readonly inferenceCount: number;
}

interface RevenueSum {
  readonly dimension: RevenueDimension;
  readonly dimensionId: string;
  readonly asset: string;
  revenueMinor: bigint;
  inferenceCount: number;
  /** The last inference counted, so an inference counts once per row however many credits it adds. */
  countedFor: number;
}

/** An attributed inference and the contributions behind its contributor credits. */
export interface InferenceLineage {
  readonly decision: AttributionFacts;
  readonly sourceOffset: bigint;
  readonly policyVersion: number;
  readonly credits: readonly ContributionCredit[];
}

/** One producer's totals in one asset as a batch changes them (producer_funding). */
export interface ProducerFundingDelta {
  readonly producer: string;
  readonly asset: string;
  feesMinor: bigint;
  creditedMinor: bigint;
  depositsMinor: bigint;
  chargebacksMinor: bigint;
}

/** What one earning account was credited from one producer's inferences in one asset, in a batch (producer_credits). */
export interface ProducerCreditDelta {
  readonly account: string;
  readonly producer: string;
  readonly asset: string;
  creditedMinor: bigint;
}

export type PayoutChange =
  | {
      readonly type: 'requested';
      readonly payout: PayoutState;
      readonly epoch: number;
      readonly requestedEventId: string;
    }
  | {
      readonly type: 'ended';
      readonly payoutId: string;
      readonly status: Exclude<PayoutStatus, 'REQUESTED'>;
      readonly endedEventId: string;
      readonly rail: string | null;
      readonly reference: string | null;
      readonly failureReason: string | null;
    };

/** Everything one batch does, in the order the writer persists it; rows sorted by key where they are upserted. */
export interface LedgerBatchEffects<R> {
  /** Events that changed the ledger, in offset order. */
  readonly appliedEvents: AppliedEventRow[];
  readonly journal: JournalTransaction[];
  readonly chain: ChainUpdate | null;
  readonly inferences: InferenceLineage[];
  readonly revenueDeltas: RevenueDelta[];
  readonly payoutChanges: PayoutChange[];
  readonly producerCreditDeltas: ProducerCreditDelta[];
  readonly balanceDeltas: BalanceDelta[];
  readonly producerFundingDeltas: ProducerFundingDelta[];
  readonly deadLetters: LedgerDeadLetter<R>[];
  /** Re-deliveries of events applied before (same id, same content): skipped. */
  readonly duplicatesSkipped: number;
}

interface Accepted<R> {
  readonly item: R;
  readonly transaction: LedgerTransaction;
  readonly payoutChange?: PayoutChange;
}

/**
 * Folds one partition's batch (records in offset order) over the state it needs: drops event ids
 * applied before (a repeat with other content is a conflict, dead-lettered), refuses a second decision
 * for an inference and a decision by an unknown policy, decides payouts against the balances, chains
 * the entries from the checkpoint, and sums the balance, revenue and producer deltas. Deterministic;
 * folding the same batch over the state it produced yields no effect but duplicatesSkipped.
 */
export function foldLedgerBatch<R extends LedgerFoldRecord>(
  records: readonly R[],
  state: LedgerFoldState,
): LedgerBatchEffects<R> {
  const deadLetters: LedgerDeadLetter<R>[] = [];
  const { fresh, duplicatesSkipped } = freshRecords(records, state, deadLetters);
  const accepted = acceptRecords(fresh, state, deadLetters);
  const journal = chainEntries(accepted, state);
  const { inferences, revenueDeltas } = lineageOf(accepted);
  const { producerFundingDeltas, producerCreditDeltas } = producerTotals(accepted);
  return {
    appliedEvents: accepted.map(({ item }) => ({
      eventId: item.eventId,
      sourceOffset: item.sourceOffset,
      contentHash: item.contentHash,
    })),
    journal: journal.transactions,
    chain:
      accepted.length === 0
        ? null
        : {
            chainSeq: journal.chain.chainSeq,
            headHashLatin1: journal.chain.headLatin1,
            eventCount: state.chain.eventCount + BigInt(accepted.length),
          },
    inferences,
    revenueDeltas,
    payoutChanges: accepted.flatMap(({ payoutChange }) => (payoutChange ? [payoutChange] : [])),
    producerCreditDeltas,
    balanceDeltas: balanceDeltas(accepted),
    producerFundingDeltas,
    deadLetters,
    duplicatesSkipped,
  };
}

/**
 * Drops repeats of an event id, within the batch and against those applied before (ids are scoped by
 * topic). The same content is a re-delivery: skipped and counted. Other content is a conflict: one id
 * cannot name two events, so the later record is refused with both hashes, and the first one stands.
 */
function freshRecords<R extends LedgerFoldRecord>(
  records: readonly R[],
  state: LedgerFoldState,
  deadLetters: LedgerDeadLetter<R>[],
): { fresh: R[]; duplicatesSkipped: number } {
  const firstSeen = new Map<string, AppliedEventState>(state.appliedEvents);
  const fresh: R[] = [];
  let duplicatesSkipped = 0;
  for (const item of records) {
    const first = firstSeen.get(item.eventId);
    if (first === undefined) {
      firstSeen.set(item.eventId, {
        sourcePartition: state.sourcePartition,
        sourceOffset: item.sourceOffset,
        contentHash: item.contentHash,
      });
      fresh.push(item);
    } else if (first.contentHash === null || first.contentHash.equals(item.contentHash)) {
      // Rows applied before hashes were kept have none: their repeats count as re-deliveries.
      duplicatesSkipped += 1;
    } else {
      const appliedAt = `${state.sourceTopic}[${first.sourcePartition}]@${first.sourceOffset}`;
      const reason =
        `eventId: ${item.eventId} was already applied from ${appliedAt} with content sha256:${first.contentHash.toString('hex')}; ` +
        `this record's content is sha256:${item.contentHash.toString('hex')}, and one id cannot name two events`;
      deadLetters.push({ record: item, rule: 'event-id-conflict', reason });
    }
  }
  return { fresh, duplicatesSkipped };
}

/** Accepts or refuses each fresh record; a batch is one partition of one topic, so it holds one kind of event, in offset order. */
function acceptRecords<R extends LedgerFoldRecord>(
  fresh: readonly R[],
  state: LedgerFoldState,
  deadLetters: LedgerDeadLetter<R>[],
): Accepted<R>[] {
  const accepted: Accepted<R>[] = [];
  const decidedBy = new Map(state.attributedInferences);
  const payoutItems: Array<R & { readonly event: { readonly type: 'payout' } }> = [];
  for (const item of fresh) {
    const { event } = item;
    switch (event.type) {
      case 'attribution': {
        const { decision } = event;
        const earlier = decidedBy.get(decision.inferenceId);
        if (!isPolicyVersion(decision.policyVersion)) {
          deadLetters.push({
            record: item,
            rule: 'unknown-policy-version',
            reason: `policyVersion: ${decision.policyVersion} is not a policy version this ledger knows; its credits cannot be traced to contributions`,
          });
        } else if (earlier !== undefined) {
          deadLetters.push({
            record: item,
            rule: 'inference-already-attributed',
            reason: `inferenceId: ${decision.inferenceId} was already attributed by event ${earlier}`,
          });
        } else {
          decidedBy.set(decision.inferenceId, item.eventId);
          accepted.push({ item, transaction: event.transaction });
        }
        break;
      }
      case 'payout':
        payoutItems.push(item as R & { readonly event: { readonly type: 'payout' } });
        break;
      case 'funding':
        accepted.push({
          item,
          transaction: { transactionId: `funding:${item.eventId}`, sourceEventId: item.eventId, postings: [] },
        });
        break;
      default:
        assertNeverEvent(event);
    }
  }
  if (payoutItems.length === 0) return accepted;
  const payoutEvents = payoutItems.map((item) => item.event.payout);
  foldPayouts(payoutEvents, state.balances, state.payouts).forEach((result, index) => {
    const item = payoutItems[index]!;
    if (result instanceof PayoutRejectedError)
      deadLetters.push({ record: item, rule: result.rule, reason: result.message });
    else
      accepted.push({
        item,
        transaction: result.transaction,
        payoutChange: payoutChangeOf(payoutEvents[index]!, result.payout),
      });
  });
  // Only a batch mixing kinds (never one partition of one topic) needs putting back in offset order.
  return payoutItems.length === fresh.length
    ? accepted
    : accepted.sort((left, right) => compareBigints(left.item.sourceOffset, right.item.sourceOffset));
}

function payoutChangeOf(event: PayoutEvent, payout: PayoutState): PayoutChange {
  switch (event.type) {
    case 'PayoutRequested':
      return { type: 'requested', payout, epoch: event.epoch, requestedEventId: event.eventId };
    case 'PayoutSettled':
      return {
        type: 'ended',
        payoutId: payout.payoutId,
        status: 'SETTLED',
        endedEventId: event.eventId,
        rail: event.rail,
        reference: event.reference,
        failureReason: null,
      };
    case 'PayoutFailed':
      return {
        type: 'ended',
        payoutId: payout.payoutId,
        status: 'FAILED',
        endedEventId: event.eventId,
        rail: null,
        reference: null,
        failureReason: event.reason,
      };
    default:
      return assertNeverEvent(event);
  }
}

/** Entries in offset order, chained from the partition's checkpoint. */
function chainEntries<R extends LedgerFoldRecord>(
  accepted: readonly Accepted<R>[],
  state: LedgerFoldState,
): { transactions: JournalTransaction[]; chain: EntryChain } {
  const chain = new EntryChain(state.sourceTopic, state.sourcePartition, state.chain.chainSeq, state.chain.headHash);
  const transactions: JournalTransaction[] = [];
  for (const { item, transaction } of accepted) {
    const { transactionId, sourceEventId, postings } = transaction;
    if (postings.length === 0) continue; // funding events make no entries
    chain.transaction(transactionId, sourceEventId, Number(item.sourceOffset));
    const firstChainSeq = chain.chainSeq + 1;
    const hashesLatin1: string[] = new Array(postings.length);
    for (let postingIndex = 0; postingIndex < postings.length; postingIndex += 1) {
      const { account, asset, amountMinor } = postings[postingIndex]!;
      hashesLatin1[postingIndex] = chain.append(postingIndex, account, asset, amountMinor);
    }
    transactions.push({
      transactionId,
      sourceEventId,
      sourceOffset: item.sourceOffset,
      firstChainSeq,
      postings,
      hashesLatin1,
    });
  }
  return { transactions, chain };
}

const CONTRIBUTOR_PREFIX = accountPrefix('contributor');

/** Which inferences and contributions made each balance, and revenue per model, contributor and datanet. */
function lineageOf<R extends LedgerFoldRecord>(
  accepted: readonly Accepted<R>[],
): { inferences: InferenceLineage[]; revenueDeltas: RevenueDelta[] } {
  const inferences: InferenceLineage[] = [];
  // Contributor sums are keyed by account id (`contributor:<id>`): the id is cut out once per row, not per posting.
  const revenue = {
    model: new SumsByKeys<RevenueSum>(),
    contributor: new SumsByKeys<RevenueSum>(),
    datanet: new SumsByKeys<RevenueSum>(),
  };
  let inference = 0;
  const add = (dimension: RevenueDimension, key: string, asset: string, amountMinor: bigint) => {
    const sums = revenue[dimension];
    const row =
      sums.get(key, asset) ??
      sums.set(key, asset, {
        dimension,
        dimensionId: dimension === 'contributor' ? key.slice(CONTRIBUTOR_PREFIX.length) : key,
        asset,
        revenueMinor: 0n,
        inferenceCount: 0,
        countedFor: -1,
      });
    row.revenueMinor += amountMinor;
    if (row.countedFor !== inference) row.inferenceCount += 1;
    row.countedFor = inference;
  };
  for (const { item } of accepted) {
    if (item.event.type !== 'attribution') continue;
    inference += 1;
    const { decision } = item.event;
    const credits = contributionCredits(decision);
    inferences.push({ decision, sourceOffset: item.sourceOffset, policyVersion: decision.policyVersion, credits });
    add('model', decision.modelId, decision.asset, decision.feeMinor);
    for (const posting of decision.postings) {
      // classifyAccount's contributor rule (`contributor:<id>`, id not empty), without building its result per posting.
      const { accountId } = posting;
      if (accountId.length > CONTRIBUTOR_PREFIX.length && accountId.startsWith(CONTRIBUTOR_PREFIX))
        add('contributor', accountId, posting.asset, posting.amountMinor);
    }
    for (const credit of credits) add('datanet', credit.datanetId, decision.asset, credit.amountMinor);
  }
  const revenueDeltas = [...revenue.model.values(), ...revenue.contributor.values(), ...revenue.datanet.values()]
    .sort(
      (left, right) =>
        compareKeys(left.dimension, right.dimension) ||
        compareKeys(left.dimensionId, right.dimensionId) ||
        compareKeys(left.asset, right.asset),
    )
    .map(({ dimension, dimensionId, asset, revenueMinor, inferenceCount }): RevenueDelta => ({
      dimension,
      dimensionId,
      asset,
      revenueMinor,
      inferenceCount,
    }));
  return { inferences, revenueDeltas };
}

/**
 * The per-producer totals the backed-credit rules read: fees and credits of decisions by their
 * producer (a decision with none under UNKNOWN_PRODUCER), deposits and chargebacks of funding events.
 * Sums per key, sorted by key: the writer upserts them in that order (so concurrent partitions queue
 * on a row rather than deadlock), and the result does not depend on the order in which partitions and
 * topics are applied, live or in a rebuild.
 */
function producerTotals<R extends LedgerFoldRecord>(
  accepted: readonly Accepted<R>[],
): { producerFundingDeltas: ProducerFundingDelta[]; producerCreditDeltas: ProducerCreditDelta[] } {
  const funding = new SumsByKeys<ProducerFundingDelta>();
  /** Keyed producer → (account, asset): a batch rarely has more than a few producers. */
  const credits = new Map<string, SumsByKeys<ProducerCreditDelta>>();
  const fundingOf = (producer: string, asset: string) =>
    funding.get(producer, asset) ??
    funding.set(producer, asset, {
      producer,
      asset,
      feesMinor: 0n,
      creditedMinor: 0n,
      depositsMinor: 0n,
      chargebacksMinor: 0n,
    });
  for (const { item } of accepted) {
    const { event } = item;
    switch (event.type) {
      case 'attribution': {
        const { decision } = event;
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
        break;
      }
      case 'funding': {
        const { type, producer, asset, amountMinor } = event.funding;
        const row = fundingOf(producer, asset);
        if (type === 'deposit') row.depositsMinor += amountMinor;
        else row.chargebacksMinor += amountMinor;
        break;
      }
      case 'payout':
        break;
      default:
        assertNeverEvent(event);
    }
  }
  const producerCreditDeltas: ProducerCreditDelta[] = [];
  for (const byAccount of credits.values()) producerCreditDeltas.push(...byAccount.values());
  return {
    producerFundingDeltas: [...funding.values()].sort(
      (left, right) => compareKeys(left.producer, right.producer) || compareKeys(left.asset, right.asset),
    ),
    producerCreditDeltas: producerCreditDeltas.sort(
      (left, right) =>
        compareKeys(left.account, right.account) ||
        compareKeys(left.producer, right.producer) ||
        compareKeys(left.asset, right.asset),
    ),
  };
}

/** Balance deltas summed per (account, asset), in key order (the order every writer locks accounts in). */
function balanceDeltas<R extends LedgerFoldRecord>(accepted: readonly Accepted<R>[]): BalanceDelta[] {
  const deltas = new SumsByKeys<{ account: string; asset: string; amountMinor: bigint; entryCount: number }>();
  for (const { transaction } of accepted) {
    for (const { account, asset, amountMinor } of transaction.postings) {
      const delta = deltas.get(account, asset);
      if (delta) {
        delta.amountMinor += amountMinor;
        delta.entryCount += 1;
      } else {
        deltas.set(account, asset, { account, asset, amountMinor, entryCount: 1 });
      }
    }
  }
  const rows = [...deltas.values()].sort(
    (left, right) => compareKeys(left.account, right.account) || compareKeys(left.asset, right.asset),
  );
  return rows.map((row) => {
    const { role, ownerId } = classifyAccount(row.account);
    return { ...row, role, ownerId };
  });
}

/**
 * Running sums by two string keys, as a map of maps: a lookup per posting builds no composite key
 * string, which at nine postings an event was a good part of a rebuild's garbage.
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

  *values(): IterableIterator<T> {
    for (const inner of this.rows.values()) yield* inner.values();
  }
}

const compareKeys = (left: string, right: string): number => (left < right ? -1 : left > right ? 1 : 0);
const compareBigints = (left: bigint, right: bigint): number => (left < right ? -1 : left > right ? 1 : 0);

function assertNeverEvent(value: never): never {
  throw new Error(
    `unhandled ledger event ${JSON.stringify(value, (_key, field: unknown) => (typeof field === 'bigint' ? field.toString() : field))}`,
  );
}
