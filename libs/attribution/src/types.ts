/**
 * Plain domain types of the attribution policy. They are deliberately not the wire types of
 * @tributary/contracts: the service maps events into these, so the policy stays independent of
 * Avro and of how state is stored.
 */

/** The review state a contribution reached through ContributionSubmitted / ContributionValidated. */
export type ContributionStatus = 'SUBMITTED' | 'ACCEPTED' | 'REJECTED';

/** One claim of an inference: "this contribution influenced me this much". */
export interface Attribution {
  readonly contributionId: string;
  /** Fixed-point score in parts per million (0..1_000_000); integers keep the arithmetic exact. */
  readonly scorePpm: number;
}

/** The facts of one paid inference (from InferenceCompleted). */
export interface InferenceFacts {
  readonly inferenceId: string;
  readonly modelId: string;
  readonly consumerId: string;
  readonly asset: string;
  /** The fee in minor units of `asset`. */
  readonly feeMinor: bigint;
  readonly attributions: readonly Attribution[];
  /** How the scores were computed; carried for lineage, it does not change the split. */
  readonly method: string;
}

/** How a model's fees divide at the top level; the three parts sum to 10_000 bps. */
export interface RevenueSplit {
  readonly protocolBps: number;
  readonly modelBps: number;
  readonly dataBps: number;
}

/** A model as ModelRegistered left it. */
export interface ModelState {
  readonly modelId: string;
  readonly owner: string;
  readonly datanetIds: readonly string[];
  readonly split: RevenueSplit;
}

/**
 * The terms a datanet's owner sets for the models that use it (DatanetCreated / DatanetUpdated v2).
 * A model breaks them when its data share is below `minDataBps`, or when `allowedModelOwners` is a
 * list and the model's owner is not on it. Absent terms (state written before v2) mean no terms:
 * `minDataBps` 0 and any model owner.
 */
export interface DatanetTerms {
  /** The least data share, in basis points of the fee (0..10_000), a model must give to use the datanet. */
  readonly minDataBps?: number;
  /** The model owners who may use the datanet; null or absent: any owner; an empty list: nobody. */
  readonly allowedModelOwners?: readonly string[] | null;
}

/** A datanet as DatanetCreated / DatanetUpdated left it. */
export interface DatanetState extends DatanetTerms {
  readonly datanetId: string;
  readonly owner: string;
  /** The part of the data share attributable to this datanet that its owner keeps as curator. */
  readonly curatorShareBps: number;
}

/**
 * The operator's split policy. Policy v1 (absent) applies the model's own registered split. Policy v2
 * takes the protocol's share from the operator (`protocolBps`), the data share from the model
 * (`split.dataBps`) and gives the model owner the rest; a model asking more data share than the
 * protocol leaves is refused.
 */
export interface SplitPolicy {
  readonly version: 2;
  /** The protocol's share of every fee, in basis points (0..10_000), set by the operator. */
  readonly protocolBps: number;
}

/** A contribution as the contribution events left it. */
export interface ContributionState {
  readonly contributionId: string;
  readonly datanetId: string;
  readonly contributor: string;
  readonly status: ContributionStatus;
  readonly revoked: boolean;
}

/**
 * Everything the policy reads. `datanets` must hold at least the model's datanets and
 * `contributions` at least the attributed contributions the caller knows; others are ignored.
 */
export interface AttributionInput {
  readonly inference: InferenceFacts;
  readonly model: ModelState;
  readonly datanets: readonly DatanetState[];
  readonly contributions: readonly ContributionState[];
  /** Id of the protocol treasury; its account is `protocol:<protocolId>`. */
  readonly protocolId: string;
  /** The operator's split policy; absent means policy v1 (the model's registered split as is). */
  readonly policy?: SplitPolicy;
}

/** Why an attribution did not count. Checked in this order; the first that applies is reported. */
export type RejectionReason =
  'DUPLICATE' | 'UNKNOWN_CONTRIBUTION' | 'OUTSIDE_MODEL_DATANETS' | 'REVOKED' | 'NOT_ACCEPTED' | 'ZERO_SCORE';

export interface Rejection {
  readonly contributionId: string;
  readonly reason: RejectionReason;
}

/** One line of a decision: a signed amount for one account. Credits are positive. */
export interface Posting {
  readonly account: string;
  readonly asset: string;
  readonly amountMinor: bigint;
}

/** The policy versions this library can decide and recompute. */
export type PolicyVersion = 1 | 2;

/** Which "no valid attribution" rule a decision used, if any. */
export type FallbackRule = 'NONE' | 'DATA_SHARE_TO_DATANET_OWNERS' | 'DATA_SHARE_TO_PROTOCOL';

/**
 * The outcome of the policy for one inference: the payload of InferenceAttributed plus the inputs
 * it saw. `inputsSeen` is the input in canonical form (sorted, with irrelevant states dropped), so
 * `decideAttribution(decision.inputsSeen)` reproduces the decision exactly.
 */
export interface AttributionDecision {
  readonly inferenceId: string;
  readonly policyVersion: PolicyVersion;
  /** The split the decision applied: the model's own under v1, the operator's protocol share under v2. */
  readonly split: RevenueSplit;
  /** The consumer's debit (-fee) first, then credits sorted by account id. */
  readonly postings: readonly Posting[];
  /** Sorted by contribution id, one entry per distinct contribution id. */
  readonly rejected: readonly Rejection[];
  readonly fallback: FallbackRule;
  readonly inputsSeen: AttributionInput;
}
