/**
 * @tributary/attribution: the pure attribution policy (v1). No framework, broker or database here;
 * the attribution service maps events into these types and publishes the decision.
 */
export { accountId, compareIds, parseAccountId } from './accounts';
export type { AccountKind, AccountRef } from './accounts';
export { apportionLargestRemainder } from './apportion';
export { decideAttribution } from './decide';
export { AttributionAssertionError, AttributionInputError, assert, assertNever } from './errors';
export type { InputRule } from './errors';
export { explain } from './explain';
export { sortInPlace } from './sort';
export {
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
  FallbackRule,
  InferenceFacts,
  ModelState,
  Posting,
  Rejection,
  RejectionReason,
  RevenueSplit,
} from './types';
export {
  entityKey,
  entityOf,
  evolveContribution,
  evolveDatanet,
  evolveModel,
  foldTableRecords,
} from './state';
export type {
  EntityKind,
  EntityVersion,
  FoldResult,
  LatestStates,
  ModelTableState,
  PartitionProgress,
  TableEvent,
  TableRecord,
  TableRejection,
  TableRejectionReason,
} from './state';
export { JOIN_RULE, ORDERING_RULE_TEXT, partitionKey, tablesCaughtUp, visibleAsOf } from './ordering';
export type { CatchUp, EndOffsetsObservation } from './ordering';
