import { AttributionInputError } from './errors';
import {
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
  SCORE_PPM_MAX,
} from './limits';
import type {
  Attribution,
  AttributionInput,
  ContributionState,
  DatanetState,
  InferenceFacts,
  ModelState,
} from './types';

/**
 * Checks every field of the input at run time. The static types already say the same, but the
 * input comes from decoded events and JavaScript callers, and a wrong value here would become a
 * wrong ledger, so the policy trusts nothing it did not check.
 */
export function validateInput(input: AttributionInput): void {
  validateInference(input.inference);
  validateModel(input.model, input.inference);
  validateDatanets(input.datanets, input.model);
  validateContributions(input.contributions);
  requireText(input.protocolId, 'protocolId', ID_LENGTH_MAX);
  if (input.policy !== undefined) {
    if (input.policy.version !== 2) fail('policy.version', 'ONE_OF', `expected 2, got ${String(input.policy.version)}`);
    requireInteger(input.policy.protocolBps, 'policy.protocolBps', 0, BPS_TOTAL);
  }
}

function validateInference(inference: InferenceFacts): void {
  requireText(inference.inferenceId, 'inference.inferenceId', ID_LENGTH_MAX);
  requireText(inference.modelId, 'inference.modelId', ID_LENGTH_MAX);
  requireText(inference.consumerId, 'inference.consumerId', ID_LENGTH_MAX);
  requireText(inference.asset, 'inference.asset', ASSET_LENGTH_MAX);
  requireText(inference.method, 'inference.method', METHOD_LENGTH_MAX);
  requireFee(inference.feeMinor);
  requireList(inference.attributions, 'inference.attributions', ATTRIBUTIONS_MAX);
  inference.attributions.forEach(validateAttribution);
}

function requireFee(feeMinor: bigint): void {
  const field = 'inference.feeMinor';
  if (typeof feeMinor !== 'bigint') fail(field, 'BIGINT', 'the fee must be a bigint in minor units');
  if (feeMinor < 0n) fail(field, 'MIN', `the fee must not be negative, got ${feeMinor}`);
  if (feeMinor > FEE_MINOR_MAX) fail(field, 'MAX', `the fee must be at most ${FEE_MINOR_MAX}, got ${feeMinor}`);
}

function validateAttribution(attribution: Attribution, index: number): void {
  requireText(attribution.contributionId, at('inference.attributions', index, 'contributionId'), ID_LENGTH_MAX);
  requireInteger(attribution.scorePpm, at('inference.attributions', index, 'scorePpm'), 0, SCORE_PPM_MAX);
}

function validateModel(model: ModelState, inference: InferenceFacts): void {
  requireText(model.modelId, 'model.modelId', ID_LENGTH_MAX);
  if (model.modelId !== inference.modelId) {
    fail('model.modelId', 'MATCHES_INFERENCE', `model ${model.modelId} is not the inference's ${inference.modelId}`);
  }
  requireText(model.owner, 'model.owner', ID_LENGTH_MAX);
  requireList(model.datanetIds, 'model.datanetIds', MODEL_DATANETS_MAX);
  model.datanetIds.forEach((datanetId, index) => requireText(datanetId, at('model.datanetIds', index), ID_LENGTH_MAX));
  requireUnique(model.datanetIds, 'model.datanetIds');
  const { protocolBps, modelBps, dataBps } = model.split;
  requireInteger(protocolBps, 'model.split.protocolBps', 0, BPS_TOTAL);
  requireInteger(modelBps, 'model.split.modelBps', 0, BPS_TOTAL);
  requireInteger(dataBps, 'model.split.dataBps', 0, BPS_TOTAL);
  if (protocolBps + modelBps + dataBps !== BPS_TOTAL) {
    fail('model.split', 'SUM_10000', `the parts sum to ${protocolBps + modelBps + dataBps}, not ${BPS_TOTAL}`);
  }
}

function validateDatanets(datanets: readonly DatanetState[], model: ModelState): void {
  requireList(datanets, 'datanets', DATANET_STATES_MAX);
  datanets.forEach((datanet, index) => {
    requireText(datanet.datanetId, at('datanets', index, 'datanetId'), ID_LENGTH_MAX);
    requireText(datanet.owner, at('datanets', index, 'owner'), ID_LENGTH_MAX);
    requireInteger(datanet.curatorShareBps, at('datanets', index, 'curatorShareBps'), 0, BPS_TOTAL);
    if (datanet.minDataBps !== undefined)
      requireInteger(datanet.minDataBps, at('datanets', index, 'minDataBps'), 0, BPS_TOTAL);
    const owners = datanet.allowedModelOwners;
    if (owners !== undefined && owners !== null) {
      requireList(owners, fieldName(at('datanets', index, 'allowedModelOwners')), ALLOWED_MODEL_OWNERS_MAX);
      owners.forEach((owner) => requireText(owner, at('datanets', index, 'allowedModelOwners'), ID_LENGTH_MAX));
    }
  });
  requireUnique(
    datanets.map((datanet) => datanet.datanetId),
    'datanets',
  );
  // A model's datanet without state means the inputs are out of step (the datanet event is not
  // applied yet); guessing its owner would pay the wrong party, so the caller must decide.
  const known = new Set(datanets.map((datanet) => datanet.datanetId));
  model.datanetIds.forEach((datanetId, index) => {
    if (!known.has(datanetId)) fail(at('model.datanetIds', index), 'KNOWN', `no state for datanet ${datanetId}`);
  });
}

function validateContributions(contributions: readonly ContributionState[]): void {
  requireList(contributions, 'contributions', CONTRIBUTION_STATES_MAX);
  contributions.forEach((contribution, index) => {
    requireText(contribution.contributionId, at('contributions', index, 'contributionId'), ID_LENGTH_MAX);
    requireText(contribution.datanetId, at('contributions', index, 'datanetId'), ID_LENGTH_MAX);
    requireText(contribution.contributor, at('contributions', index, 'contributor'), ID_LENGTH_MAX);
    if (!CONTRIBUTION_STATUSES.includes(contribution.status)) {
      fail(at('contributions', index, 'status'), 'ONE_OF', `expected one of ${CONTRIBUTION_STATUSES.join(', ')}`);
    }
    if (typeof contribution.revoked !== 'boolean')
      fail(at('contributions', index, 'revoked'), 'BOOLEAN', 'expected a boolean');
  });
  requireUnique(
    contributions.map((contribution) => contribution.contributionId),
    'contributions',
  );
}

const CONTRIBUTION_STATUSES: readonly string[] = ['SUBMITTED', 'ACCEPTED', 'REJECTED'];

/**
 * A field of a list entry, named only when a check fails: building `contributions[3].owner` (a number
 * turned to text and three strings joined) for every field of every decision was most of what
 * validating a valid input cost.
 */
interface ListField {
  readonly list: string;
  readonly index: number;
  readonly member: string | undefined;
}

type Field = string | ListField;

function at(list: string, index: number, member?: string): ListField {
  return { list, index, member };
}

function fieldName(field: Field): string {
  if (typeof field === 'string') return field;
  return field.member === undefined ? `${field.list}[${field.index}]` : `${field.list}[${field.index}].${field.member}`;
}

function requireText(value: string, field: Field, lengthMax: number): void {
  if (typeof value !== 'string') fail(field, 'STRING', 'expected a string');
  if (value.length === 0) fail(field, 'NON_EMPTY', 'must not be empty');
  if (value.length > lengthMax) fail(field, 'LENGTH_MAX', `at most ${lengthMax} characters, got ${value.length}`);
}

function requireInteger(value: number, field: Field, min: number, max: number): void {
  if (!Number.isSafeInteger(value)) fail(field, 'INTEGER', `expected an integer, got ${String(value)}`);
  if (value < min) fail(field, 'MIN', `must be at least ${min}, got ${value}`);
  if (value > max) fail(field, 'MAX', `must be at most ${max}, got ${value}`);
}

function requireList(value: readonly unknown[], field: string, countMax: number): void {
  if (!Array.isArray(value)) fail(field, 'ARRAY', 'expected a list');
  if (value.length > countMax) fail(field, 'COUNT_MAX', `at most ${countMax} entries, got ${value.length}`);
}

function requireUnique(ids: readonly string[], field: string): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) fail(field, 'UNIQUE', `${id} appears more than once`);
    seen.add(id);
  }
}

function fail(field: Field, rule: AttributionInputError['rule'], detail: string): never {
  throw new AttributionInputError(fieldName(field), rule, detail);
}
