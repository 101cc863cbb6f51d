// Proves the ledger fold with no database or broker: for every case of fold.cases.ts, given the
// batches applied before (folded, and their effects kept in memory as the writer keeps them in
// PostgreSQL), when the batch is applied, then its effects are the case's; applied a second time it
// changes nothing (its event ids are applied) and meets the same refusals; the fold is deterministic;
// and the entries it hashes continue each partition's chain, as verifyChain checks it.
import { createHash } from 'node:crypto';
import { balanceKey } from './accounts';
import { verifyChain, type ChainedEntry } from './chain';
import {
  FOLD_CASES,
  NO_EFFECTS,
  caseDecision,
  caseRequested,
  type CaseBatch,
  type CaseEvent,
  type ObservedEffects,
} from './fold.cases';
import {
  foldLedgerBatch,
  initialLedgerState,
  type AppliedEventState,
  type ChainCheckpoint,
  type LedgerBatchEffects,
  type LedgerFoldRecord,
  type LedgerFoldState,
} from './fold';
import { transactionOfDecision } from './ledger-transaction';
import type { PayoutState } from './payouts';

/** The topic each event is published on (one per kind, as the catalog has it). */
function topicOf(event: CaseEvent): string {
  switch (event.type) {
    case 'InferenceAttributed':
      return 'attributions';
    case 'PayoutRequested':
    case 'PayoutSettled':
    case 'PayoutFailed':
      return 'payouts';
    case 'FundsDeposited':
    case 'FundsReversed':
      return 'funding';
    default:
      return assertNever(event);
  }
}

const contentHashOf = (event: CaseEvent) =>
  createHash('sha256')
    .update(JSON.stringify(event, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)))
    .digest();

/** The record the projector would decode from the event (ledger-record.ts does this from the wire). */
function foldRecordOf(event: CaseEvent, sourceOffset: bigint): LedgerFoldRecord {
  const base = { eventId: event.data.eventId, sourceOffset, contentHash: contentHashOf(event) };
  switch (event.type) {
    case 'InferenceAttributed':
      return {
        ...base,
        event: {
          type: 'attribution',
          decision: event.data,
          transaction: transactionOfDecision({ ...event.data, credits: event.data.postings }),
        },
      };
    case 'PayoutRequested': {
      const { eventId, payoutId, accountId, asset, amountMinor, epoch } = event.data;
      return {
        ...base,
        event: {
          type: 'payout',
          payout: { type: 'PayoutRequested', eventId, payoutId, account: accountId, asset, amountMinor, epoch },
        },
      };
    }
    case 'PayoutSettled': {
      const { eventId, payoutId, accountId, rail, reference } = event.data;
      return {
        ...base,
        event: {
          type: 'payout',
          payout: { type: 'PayoutSettled', eventId, payoutId, account: accountId, rail, reference },
        },
      };
    }
    case 'PayoutFailed': {
      const { eventId, payoutId, accountId, reason } = event.data;
      return {
        ...base,
        event: { type: 'payout', payout: { type: 'PayoutFailed', eventId, payoutId, account: accountId, reason } },
      };
    }
    case 'FundsDeposited':
    case 'FundsReversed': {
      const { producer, asset, amountMinor } = event.data;
      return {
        ...base,
        event: {
          type: 'funding',
          funding: { type: event.type === 'FundsDeposited' ? 'deposit' : 'chargeback', producer, asset, amountMinor },
        },
      };
    }
    default:
      return assertNever(event);
  }
}

/** The state the writer keeps in PostgreSQL, kept in maps: each batch is folded over it and its effects applied to it. */
class InMemoryLedger {
  private readonly applied = new Map<string, Map<string, AppliedEventState>>();
  private readonly inferences = new Map<string, string>();
  private readonly payouts = new Map<string, PayoutState>();
  private readonly balances = new Map<string, bigint>();
  private readonly chains = new Map<string, ChainCheckpoint>();
  private readonly nextOffsets = new Map<string, bigint>();
  /** Every entry written, by chain, to check the hashes with verifyChain. */
  readonly entries = new Map<string, Array<ChainedEntry & { readonly hash: Buffer }>>();

  /** The state a batch of this topic and partition is folded over: everything kept (a superset of what the writer reads). */
  stateFor(topic: string, partition: number): LedgerFoldState {
    const initial = initialLedgerState(topic, partition);
    return {
      ...initial,
      appliedEvents: this.applied.get(topic) ?? new Map(),
      attributedInferences: this.inferences,
      payouts: this.payouts,
      balances: this.balances,
      chain: this.chains.get(`${topic}/${partition}`) ?? initial.chain,
    };
  }

  /** Appends the batch's events at the partition's next offsets, as a broker would, and applies them as one batch. */
  apply(batch: CaseBatch): LedgerBatchEffects<LedgerFoldRecord> {
    const topic = topicOf(batch.events[0]!);
    const key = `${topic}/${batch.partition}`;
    const first = this.nextOffsets.get(key) ?? 0n;
    const records = batch.events.map((event, index) => foldRecordOf(event, first + BigInt(index)));
    this.nextOffsets.set(key, first + BigInt(records.length));
    const effects = foldLedgerBatch(records, this.stateFor(topic, batch.partition));
    this.evolve(topic, batch.partition, effects);
    return effects;
  }

  private evolve(topic: string, partition: number, effects: LedgerBatchEffects<LedgerFoldRecord>): void {
    const applied = this.applied.get(topic) ?? new Map<string, AppliedEventState>();
    this.applied.set(topic, applied);
    for (const { eventId, sourceOffset, contentHash } of effects.appliedEvents)
      applied.set(eventId, { sourcePartition: partition, sourceOffset, contentHash });
    for (const { decision } of effects.inferences) this.inferences.set(decision.inferenceId, decision.eventId);
    for (const change of effects.payoutChanges) {
      if (change.type === 'requested') this.payouts.set(change.payout.payoutId, change.payout);
      else this.payouts.set(change.payoutId, { ...this.payouts.get(change.payoutId)!, status: change.status });
    }
    for (const delta of effects.balanceDeltas) {
      const balance = balanceKey(delta.account, delta.asset);
      this.balances.set(balance, (this.balances.get(balance) ?? 0n) + delta.amountMinor);
    }
    const chainKey = `${topic}/${partition}`;
    const written = this.entries.get(chainKey) ?? [];
    this.entries.set(chainKey, written);
    for (const transaction of effects.journal) {
      transaction.postings.forEach((posting, postingIndex) => {
        written.push({
          sourceTopic: topic,
          sourcePartition: partition,
          chainSeq: BigInt(transaction.firstChainSeq + postingIndex),
          transactionId: transaction.transactionId,
          postingIndex,
          account: posting.account,
          asset: posting.asset,
          amountMinor: posting.amountMinor,
          sourceEventId: transaction.sourceEventId,
          sourceOffset: transaction.sourceOffset,
          hash: Buffer.from(transaction.hashesLatin1[postingIndex]!, 'latin1'),
        });
      });
    }
    if (effects.chain)
      this.chains.set(chainKey, {
        chainSeq: effects.chain.chainSeq,
        headHash: Buffer.from(effects.chain.headHashLatin1, 'latin1'),
        eventCount: effects.chain.eventCount,
      });
  }
}

/** The fold's effects as the cases state them (the integration tier reads the same from the tables). */
function observe(effects: LedgerBatchEffects<LedgerFoldRecord>): ObservedEffects {
  const nonZero = <T>(entries: Array<[string, T]>, isZero: (value: T) => boolean) =>
    Object.fromEntries(entries.filter(([, value]) => !isZero(value)));
  return {
    balances: nonZero(
      effects.balanceDeltas.map((delta) => [`${delta.account}|${delta.asset}`, delta.amountMinor]),
      (amount) => amount === 0n,
    ),
    revenue: nonZero(
      effects.revenueDeltas.map((delta) => [
        `${delta.dimension}|${delta.dimensionId}|${delta.asset}`,
        [delta.revenueMinor, delta.inferenceCount] as const,
      ]),
      ([amount, count]) => amount === 0n && count === 0,
    ),
    inferences: effects.inferences.map(({ decision }) => decision.inferenceId),
    contributionCredits: Object.fromEntries(
      effects.inferences.flatMap(({ decision, credits }) =>
        credits.map((credit) => [`${decision.inferenceId}|${credit.contributionId}`, credit.amountMinor]),
      ),
    ),
    producerFunding: nonZero(
      effects.producerFundingDeltas.map((delta) => [
        `${delta.producer}|${delta.asset}`,
        [delta.feesMinor, delta.creditedMinor, delta.depositsMinor, delta.chargebacksMinor] as const,
      ]),
      (sums) => sums.every((sum) => sum === 0n),
    ),
    producerCredits: nonZero(
      effects.producerCreditDeltas.map((delta) => [
        `${delta.account}|${delta.producer}|${delta.asset}`,
        delta.creditedMinor,
      ]),
      (amount) => amount === 0n,
    ),
    payouts: Object.fromEntries(
      effects.payoutChanges.map((change) =>
        change.type === 'requested' ? [change.payout.payoutId, change.payout.status] : [change.payoutId, change.status],
      ),
    ),
    deadLetters: effects.deadLetters.map((deadLetter) => deadLetter.rule),
    appliedEvents: effects.appliedEvents.length,
    entries: effects.journal.reduce((count, transaction) => count + transaction.postings.length, 0),
  };
}

const statesOfCases = [...new Set(FOLD_CASES.map((foldCase) => foldCase.state))];

for (const state of statesOfCases) {
  describe(`given ${state}`, () => {
    for (const foldCase of FOLD_CASES.filter((candidate) => candidate.state === state)) {
      describe(`when ${foldCase.when}`, () => {
        it('then the batch has the effects the case states, and applied again it changes nothing', () => {
          const ledger = new InMemoryLedger();
          for (const batch of foldCase.given) ledger.apply(batch);
          expect(observe(ledger.apply(foldCase.batch))).toEqual(foldCase.then);
          const again = ledger.apply(foldCase.batch);
          expect(observe(again)).toEqual({ ...NO_EFFECTS, deadLetters: foldCase.then.deadLetters });
          // Every record is now either a re-delivery of an applied event or refused again.
          expect(again.duplicatesSkipped + again.deadLetters.length).toBe(foldCase.batch.events.length);
        });

        it('then the fold is deterministic and its entries continue the chain', () => {
          const ledger = new InMemoryLedger();
          for (const batch of foldCase.given) ledger.apply(batch);
          const topic = topicOf(foldCase.batch.events[0]!);
          const records = foldCase.batch.events.map((event, index) => foldRecordOf(event, 100n + BigInt(index)));
          const state = ledger.stateFor(topic, foldCase.batch.partition);
          expect(foldLedgerBatch(records, state)).toEqual(foldLedgerBatch(records, state));
          ledger.apply(foldCase.batch);
          for (const entries of ledger.entries.values()) expect(verifyChain(entries)).toBeNull();
        });
      });
    }
  });
}

describe('given a ledger that has applied a decision, a refusal of the fold', () => {
  it('names the rule and says why, with both contents for a reused event id', () => {
    const ledger = new InMemoryLedger();
    ledger.apply({ partition: 0, events: [caseDecision('inf-1')] });
    const conflict = ledger.apply({ partition: 0, events: [caseDecision('inf-1', { modelId: 'm2' })] }).deadLetters[0]!;
    expect(conflict.rule).toBe('event-id-conflict');
    expect(conflict.reason).toMatch(
      /^eventId: attributed:inf-1 was already applied from attributions\[0\]@0 with content sha256:[0-9a-f]{64}; this record's content is sha256:[0-9a-f]{64}/,
    );
    const overdraft = ledger.apply({ partition: 0, events: [caseRequested('p1', 'contributor:bob', 21n)] })
      .deadLetters[0]!;
    expect(overdraft).toMatchObject({
      rule: 'overdraft',
      reason: 'amountMinor: 21 exceeds the payable balance 20 of contributor:bob in USDC',
    });
  });
});

function assertNever(value: never): never {
  throw new Error(`unhandled case event ${JSON.stringify(value)}`);
}
