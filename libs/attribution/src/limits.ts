/**
 * Limits of the policy (v1 and v2 share them). Every list and number that enters the policy is bounded, so a hostile or
 * broken producer cannot make one decision arbitrarily large or slow (STYLE: "put a limit on
 * everything"). Changing a limit that rejects formerly valid input needs a new policy version.
 */

/**
 * The version the attribution service decides with; every decision records its version, and a replay
 * re-runs the policy of the recorded version. v1: the model's registered split. v2: the protocol's
 * share from the operator's policy, the data share from the model, the rest to the model owner; and
 * every decision checks the terms of the model's datanets.
 */
export const POLICY_VERSION = 2 as const;

/** Basis points in a whole: a split's three parts sum to this, and a curator share is at most this. */
export const BPS_TOTAL = 10_000;

/** An Avro `long` and a PostgreSQL `bigint` both stop at 2^63 - 1, so a larger fee could not travel. */
export const FEE_MINOR_MAX = 2n ** 63n - 1n;

/**
 * One inference may credit at most this many contributions, covering any attribution method we know
 * of. It bounds the policy's work, not the decision's size: the schema allows 1,000 attributions, and a
 * decision's bytes depend on its ids too, so the attribution service measures each decision against its
 * topic's max.message.bytes and dead-letters one that would not fit (decision-too-large).
 */
export const ATTRIBUTIONS_MAX = 10_000;

/** The caller passes the states of the referenced contributions, so the same bound applies. */
export const CONTRIBUTION_STATES_MAX = ATTRIBUTIONS_MAX;

/** A model trained on more than a hundred datanets is implausible; the bound keeps fallbacks small. */
export const MODEL_DATANETS_MAX = 100;

/** The caller passes the model's datanets (extra ones are ignored but still counted here). */
export const DATANET_STATES_MAX = 1_000;

/** A datanet names at most this many model owners in its terms (schema: DatanetCreated v2 allowedModelOwners). */
export const ALLOWED_MODEL_OWNERS_MAX = 100;

/**
 * Scores are fixed point in parts per million: 1_000_000 means 1.0, the largest influence a single
 * contribution can have. Only the ratios between scores matter; they need not sum to a million.
 */
export const SCORE_PPM_MAX = 1_000_000;

/** Ids longer than this are almost certainly a producer bug, and they become account ids. */
export const ID_LENGTH_MAX = 256;

/** Asset codes are short symbols such as "USDC" or "EUR". */
export const ASSET_LENGTH_MAX = 32;

/** Attribution method names ("influence-function", "retrieval") are short labels. */
export const METHOD_LENGTH_MAX = 64;
