/**
 * @tributary/attribution: the pure attribution policy (v1 and v2). No framework, broker or database here;
 * the attribution service maps events into these types and publishes the decision.
 */
export {
  ACCOUNT_ID_SEPARATOR,
  ACCOUNT_ROLES,
  EARNER_ROLES,
  accountId,
  accountPrefix,
  classifyAccount,
  compareIds,
  isEarnerRole,
  parseAccount,
} from './accounts';
export type { AccountRef, AccountRole, EarnerRole, LedgerRole, NamedRole } from './accounts';
export { REJECTION_REASON_TEXT, rejectionLine, rejectionReasonText } from './rejection-reasons';
export { apportionLargestRemainder } from './apportion';
export { decideAttribution } from './decide';
export { AttributionAssertionError, AttributionInputError, assert, assertNever } from './errors';
export type { InputRule } from './errors';
export { explain } from './explain';
export { contributionWeight, isPolicyVersion } from './policy';
export { sortInPlace } from './sort';
export {
  DATANET_TERMS_RULE,
  PROTOCOL_POLICY_RULE,
  appliedSplit,
  protocolPolicyBreach,
  termsBreachDetail,
  termsBreachText,
  termsBreaches,
  termsOf,
} from './terms';
export type { ModelTermsView, TermsBreach } from './terms';
export {
  ALLOWED_MODEL_OWNERS_MAX,
  ASSET_LENGTH_MAX,
  ATTRIBUTIONS_MAX,
  BPS_TOTAL,
  CONTRIBUTION_STATES_MAX,
  DATANET_STATES_MAX,
  FEE_MINOR_MAX,
  ID_LENGTH_MAX,
  METHOD_LENGTH_MAX,
  MODEL_DATANETS_MAX,
  POLICY_VERSION,
  SCORE_PPM_MAX,
} from './limits';
export type {
  Attribution,
  AttributionDecision,
  AttributionInput,
  ContributionState,
  ContributionStatus,
  DatanetState,
  DatanetTerms,
  FallbackRule,
  InferenceFacts,
  ModelState,
  PolicyVersion,
  Posting,
  Rejection,
  RejectionReason,
  RevenueSplit,
  SplitPolicy,
} from './types';
export { entityKey, entityOf, evolveContribution, evolveDatanet, evolveModel, foldTableRecords } from './state';
export type {
  EntityKind,
  EntityVersion,
  FoldOptions,
  FoldResult,
  LatestStates,
  ModelTableState,
  PartitionProgress,
  TableEvent,
  TableRecord,
  TableRejection,
  TableRejectionReason,
} from './state';
export {
  JOIN_RULE,
  JOIN_RULES,
  ORDERING_RULE_TEXT,
  observationCloses,
  partitionKey,
  recordedJoinRule,
  tablesCaughtUp,
  visibleAsOf,
} from './ordering';
export type { CatchUp, JoinRule, JoinRuleName, TablesObservation } from './ordering';
