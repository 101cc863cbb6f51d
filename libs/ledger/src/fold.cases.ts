// The ledger fold's specification as data: given the batches applied before, when one batch is
// applied, then these effects. fold.spec.ts runs every case through foldLedgerBatch (unit tier, no
// database); services/ledger-projector/test/fold.int-spec.ts runs the same cases through the
// projector's PostgreSQL writer and reads the effects back as differences of the tables, so the SQL
// cannot drift from the fold.
import type {
  FundsDeposited,
  FundsReversed,
  InferenceAttributed,
  PayoutFailed,
  PayoutRequested,
  PayoutSettled,
} from '@tributary/contracts';
import type { LedgerRefusalRule } from './fold';

/** An event as published, with its wire type: what the integration tier encodes and the unit tier maps. */
export type CaseEvent =
  | { readonly type: 'InferenceAttributed'; readonly data: InferenceAttributed }
  | { readonly type: 'PayoutRequested'; readonly data: PayoutRequested }
  | { readonly type: 'PayoutSettled'; readonly data: PayoutSettled }
  | { readonly type: 'PayoutFailed'; readonly data: PayoutFailed }
  | { readonly type: 'FundsDeposited'; readonly data: FundsDeposited }
  | { readonly type: 'FundsReversed'; readonly data: FundsReversed };

/** One batch: events of one topic (attributions, payouts or funding), read from one partition at its next offsets. */
export interface CaseBatch {
  readonly partition: number;
  readonly events: readonly CaseEvent[];
}

/**
 * What a batch did, as both tiers can observe it: deltas keyed by their row's key (zero deltas left
 * out), rows added, payout statuses set, refusals by rule, and counts of applied events and entries.
 */
export interface ObservedEffects {
  /** `account|asset` → balance delta. */
  readonly balances: Readonly<Record<string, bigint>>;
  /** `dimension|id|asset` → [revenue delta, inference count delta]. */
  readonly revenue: Readonly<Record<string, readonly [bigint, number]>>;
  /** Inferences given lineage, by id. */
  readonly inferences: readonly string[];
  /** `inferenceId|contributionId` → the contribution's part of its contributor's credit. */
  readonly contributionCredits: Readonly<Record<string, bigint>>;
  /** `producer|asset` → [fees, credited, deposits, chargebacks] deltas. */
  readonly producerFunding: Readonly<Record<string, readonly [bigint, bigint, bigint, bigint]>>;
  /** `account|producer|asset` → credited delta. */
  readonly producerCredits: Readonly<Record<string, bigint>>;
  /** payoutId → its status after the batch, for payouts the batch requested or ended. */
  readonly payouts: Readonly<Record<string, string>>;
  /** Refused records' rules, in offset order. */
  readonly deadLetters: readonly LedgerRefusalRule[];
  readonly appliedEvents: number;
  readonly entries: number;
}

export interface FoldCase {
  /** The describe block: the state the batch meets. */
  readonly state: string;
  /** The test: what the batch holds. */
  readonly when: string;
  readonly given: readonly CaseBatch[];
  readonly batch: CaseBatch;
  readonly then: ObservedEffects;
}

/** Effects of a batch that changed nothing (refusals aside). */
export const NO_EFFECTS: ObservedEffects = {
  balances: {},
  revenue: {},
  inferences: [],
  contributionCredits: {},
  producerFunding: {},
  producerCredits: {},
  payouts: {},
  deadLetters: [],
  appliedEvents: 0,
  entries: 0,
};

const OCCURRED_AT = 1_760_000_000_000n;
const PRODUCER = 'urn:tributary:producer:cases';

/**
 * A decision on inference `inferenceId` with a fee of 100: protocol 10, model owner 30, datanet owner 5,
 * ana 35 (from k1 in d1, score 300, and k2 in d2, score 100, whose curator keeps half), bob 20 (k3 in
 * d1). Ana's credit splits 300 × 10000 : 100 × 5000 = 6 : 1, so k1 30 and k2 5.
 */
export function caseDecision(inferenceId: string, overrides: Partial<InferenceAttributed> = {}): CaseEvent {
  const data: InferenceAttributed = {
    eventId: `attributed:${inferenceId}`,
    inferenceId,
    occurredAt: OCCURRED_AT,
    inferenceEventId: `completed:${inferenceId}`,
    producer: PRODUCER,
    policyVersion: 1,
    modelId: 'm1',
    consumerId: 'alice',
    asset: 'USDC',
    feeMinor: 100n,
    split: { protocolBps: 1000, modelBps: 3000, dataBps: 6000 },
    postings: [
      { accountId: 'contributor:ana', asset: 'USDC', amountMinor: 35n },
      { accountId: 'contributor:bob', asset: 'USDC', amountMinor: 20n },
      { accountId: 'datanet-owner:dora', asset: 'USDC', amountMinor: 5n },
      { accountId: 'model-owner:olga', asset: 'USDC', amountMinor: 30n },
      { accountId: 'protocol:tributary', asset: 'USDC', amountMinor: 10n },
    ],
    rejected: [],
    contributionsSeen: [
      { contributionId: 'k1', status: 'ACCEPTED', datanetId: 'd1', contributorId: 'ana', scorePpm: 300n },
      { contributionId: 'k2', status: 'ACCEPTED', datanetId: 'd2', contributorId: 'ana', scorePpm: 100n },
      { contributionId: 'k3', status: 'ACCEPTED', datanetId: 'd1', contributorId: 'bob', scorePpm: 200n },
    ],
    datanetsSeen: [
      { datanetId: 'd1', ownerId: 'dora', curatorShareBps: 0, minDataBps: 0, allowedModelOwners: null },
      { datanetId: 'd2', ownerId: 'dora', curatorShareBps: 5000, minDataBps: 0, allowedModelOwners: null },
    ],
    orderingRule: 'largest-remainder; ties by accountId ascending',
    ...overrides,
  };
  return { type: 'InferenceAttributed', data };
}

export const caseRequested = (payoutId: string, accountId: string, amountMinor: bigint): CaseEvent => ({
  type: 'PayoutRequested',
  data: {
    eventId: `requested:${payoutId}`,
    payoutId,
    accountId,
    occurredAt: OCCURRED_AT,
    asset: 'USDC',
    amountMinor,
    epoch: 1,
  },
});
export const caseSettled = (payoutId: string, accountId: string): CaseEvent => ({
  type: 'PayoutSettled',
  data: {
    eventId: `settled:${payoutId}`,
    payoutId,
    accountId,
    occurredAt: OCCURRED_AT,
    rail: 'ach',
    reference: `ref-${payoutId}`,
  },
});
export const caseFailed = (payoutId: string, accountId: string): CaseEvent => ({
  type: 'PayoutFailed',
  data: { eventId: `failed:${payoutId}`, payoutId, accountId, occurredAt: OCCURRED_AT, reason: 'account closed' },
});
export const caseDeposit = (eventId: string, amountMinor: bigint): CaseEvent => ({
  type: 'FundsDeposited',
  data: {
    eventId,
    producer: PRODUCER,
    occurredAt: OCCURRED_AT,
    asset: 'USDC',
    amountMinor,
    railReference: `wire-${eventId}`,
  },
});
export const caseReversal = (eventId: string, amountMinor: bigint): CaseEvent => ({
  type: 'FundsReversed',
  data: {
    eventId,
    producer: PRODUCER,
    occurredAt: OCCURRED_AT,
    asset: 'USDC',
    amountMinor,
    railReference: `cb-${eventId}`,
    reason: 'chargeback',
    reversesEventId: null,
  },
});

/** What caseDecision does to a ledger that had not seen its inference. */
const decisionEffects = (inferenceId: string): ObservedEffects => ({
  ...NO_EFFECTS,
  balances: {
    'consumer:alice|USDC': -100n,
    'contributor:ana|USDC': 35n,
    'contributor:bob|USDC': 20n,
    'datanet-owner:dora|USDC': 5n,
    'model-owner:olga|USDC': 30n,
    'protocol:tributary|USDC': 10n,
  },
  revenue: {
    'contributor|ana|USDC': [35n, 1],
    'contributor|bob|USDC': [20n, 1],
    'datanet|d1|USDC': [50n, 1],
    'datanet|d2|USDC': [5n, 1],
    'model|m1|USDC': [100n, 1],
  },
  inferences: [inferenceId],
  contributionCredits: { [`${inferenceId}|k1`]: 30n, [`${inferenceId}|k2`]: 5n, [`${inferenceId}|k3`]: 20n },
  producerFunding: { [`${PRODUCER}|USDC`]: [100n, 100n, 0n, 0n] },
  producerCredits: {
    [`contributor:ana|${PRODUCER}|USDC`]: 35n,
    [`contributor:bob|${PRODUCER}|USDC`]: 20n,
    [`datanet-owner:dora|${PRODUCER}|USDC`]: 5n,
    [`model-owner:olga|${PRODUCER}|USDC`]: 30n,
    [`protocol:tributary|${PRODUCER}|USDC`]: 10n,
  },
  appliedEvents: 1,
  entries: 6,
});

const decided: CaseBatch = { partition: 0, events: [caseDecision('inf-1')] };
const requested: CaseBatch = { partition: 0, events: [caseRequested('p1', 'contributor:ana', 30n)] };

export const FOLD_CASES: readonly FoldCase[] = [
  {
    state: 'a ledger that has applied nothing',
    when: 'a decision is applied: the consumer pays the fee, each credit lands, and lineage and revenue follow the policy weights',
    given: [],
    batch: decided,
    then: decisionEffects('inf-1'),
  },
  {
    state: 'a ledger that has applied nothing',
    when: 'the same decision arrives twice in one batch: it is applied once',
    given: [],
    batch: { partition: 0, events: [caseDecision('inf-1'), caseDecision('inf-1')] },
    then: decisionEffects('inf-1'),
  },
  {
    state: 'a ledger that has applied nothing',
    when: 'a decision by a policy version the ledger does not know: refused, nothing applied',
    given: [],
    batch: { partition: 0, events: [caseDecision('inf-1', { policyVersion: 9 })] },
    then: { ...NO_EFFECTS, deadLetters: ['unknown-policy-version'] },
  },
  {
    state: 'a ledger that has applied nothing',
    when: 'a deposit and a chargeback: the producer totals move, no entry is made',
    given: [],
    batch: { partition: 0, events: [caseDeposit('dep-1', 500n), caseReversal('rev-1', 40n)] },
    then: { ...NO_EFFECTS, producerFunding: { [`${PRODUCER}|USDC`]: [0n, 0n, 500n, 40n] }, appliedEvents: 2 },
  },
  {
    state: 'a ledger that has applied a decision',
    when: 'the decision is re-delivered: nothing changes',
    given: [decided],
    batch: decided,
    then: NO_EFFECTS,
  },
  {
    state: 'a ledger that has applied a decision',
    when: 'the decision is re-delivered on another partition of the topic: event ids are scoped by topic, so nothing changes',
    given: [decided],
    batch: { partition: 1, events: [caseDecision('inf-1')] },
    then: NO_EFFECTS,
  },
  {
    state: 'a ledger that has applied a decision',
    when: 'its event id arrives with other content: refused as a conflict, the first event stands',
    given: [decided],
    batch: { partition: 0, events: [caseDecision('inf-1', { feeMinor: 100n, modelId: 'm2' })] },
    then: { ...NO_EFFECTS, deadLetters: ['event-id-conflict'] },
  },
  {
    state: 'a ledger that has applied a decision',
    when: 'another event decides the same inference: refused, one decision per inference',
    given: [decided],
    batch: { partition: 0, events: [caseDecision('inf-1', { eventId: 'attributed:inf-1:again' })] },
    then: { ...NO_EFFECTS, deadLetters: ['inference-already-attributed'] },
  },
  {
    state: 'a ledger that has applied a decision',
    when: 'a decision on another inference: each revenue row counts it once more',
    given: [decided],
    batch: { partition: 0, events: [caseDecision('inf-2')] },
    then: decisionEffects('inf-2'),
  },
  {
    state: 'a ledger that has applied a decision',
    when: 'two payout requests of one account, the second past what is left: the first is reserved, the second refused as an overdraft',
    given: [decided],
    batch: {
      partition: 0,
      events: [caseRequested('p1', 'contributor:ana', 30n), caseRequested('p2', 'contributor:ana', 10n)],
    },
    then: {
      ...NO_EFFECTS,
      balances: { 'contributor:ana|USDC': -30n, 'clearing:payouts-in-flight|USDC': 30n },
      payouts: { p1: 'REQUESTED' },
      deadLetters: ['overdraft'],
      appliedEvents: 1,
      entries: 2,
    },
  },
  {
    state: 'a ledger that has applied a decision',
    when: 'a payout that was never requested is settled: refused',
    given: [decided],
    batch: { partition: 0, events: [caseSettled('p9', 'contributor:ana')] },
    then: { ...NO_EFFECTS, deadLetters: ['unknown-payout'] },
  },
  {
    state: 'a ledger with a payout in flight',
    when: "the rail settles it: the money leaves to the rail's settlement account",
    given: [decided, requested],
    batch: { partition: 0, events: [caseSettled('p1', 'contributor:ana')] },
    then: {
      ...NO_EFFECTS,
      balances: { 'clearing:payouts-in-flight|USDC': -30n, 'settlement:ach|USDC': 30n },
      payouts: { p1: 'SETTLED' },
      appliedEvents: 1,
      entries: 2,
    },
  },
  {
    state: 'a ledger with a payout in flight',
    when: 'the rail fails it: the money returns to the account',
    given: [decided, requested],
    batch: { partition: 0, events: [caseFailed('p1', 'contributor:ana')] },
    then: {
      ...NO_EFFECTS,
      balances: { 'clearing:payouts-in-flight|USDC': -30n, 'contributor:ana|USDC': 30n },
      payouts: { p1: 'FAILED' },
      appliedEvents: 1,
      entries: 2,
    },
  },
  {
    state: 'a ledger with a payout in flight',
    when: 'a settlement names another account, then a second request reuses the payout id: both refused',
    given: [decided, requested],
    batch: {
      partition: 0,
      events: [
        caseSettled('p1', 'contributor:bob'),
        {
          type: 'PayoutRequested',
          data: {
            ...(caseRequested('p1', 'contributor:ana', 1n).data as PayoutRequested),
            eventId: 'requested:p1:again',
          },
        },
      ],
    },
    then: { ...NO_EFFECTS, deadLetters: ['account-mismatch', 'payout-id-reused'] },
  },
];
