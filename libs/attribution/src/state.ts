import { compareIds } from './accounts';
import { assert, assertNever } from './errors';
import { DATANET_TERMS_RULE, PROTOCOL_POLICY_RULE, protocolPolicyBreach, termsBreachDetail } from './terms';
import type { ContributionState, DatanetState, ModelState, RevenueSplit, SplitPolicy } from './types';

/**
 * The table side of the stream-table join: datanet, contribution and model events folded into entity
 * states, each state kept as a version tagged with the log position that produced it. Versions let the
 * service read the state "as of" an inference's time (ordering.ts) while the table consumer runs
 * ahead, so a decision never depends on how far the table consumer happened to be.
 */

/** A model as ModelRegistered / ModelRetired left it; retirement is kept for the as-of rule. */
export interface ModelTableState extends ModelState {
  readonly retired: boolean;
}

/** The table events in domain form; the service maps the wire events onto these. */
export type TableEvent =
  | {
      readonly type: 'DatanetCreated';
      readonly datanetId: string;
      readonly owner: string;
      readonly curatorShareBps: number;
      /** Terms (v2); absent on events mapped by older code: no minimum, any model owner. */
      readonly minDataBps?: number;
      readonly allowedModelOwners?: readonly string[] | null;
    }
  | {
      readonly type: 'DatanetUpdated';
      readonly datanetId: string;
      readonly curatorShareBps: number | null;
      /** null or absent: unchanged. */
      readonly minDataBps?: number | null;
      /** A new list of admitted model owners; null or absent: unchanged. */
      readonly allowedModelOwners?: readonly string[] | null;
      /** true: any model owner may use the datanet from now on (the list is dropped). */
      readonly allowAnyModelOwner?: boolean;
    }
  | {
      readonly type: 'ContributionSubmitted';
      readonly contributionId: string;
      readonly datanetId: string;
      readonly contributor: string;
    }
  | {
      readonly type: 'ContributionValidated';
      readonly contributionId: string;
      readonly decision: 'ACCEPTED' | 'REJECTED';
    }
  | { readonly type: 'ContributionRevoked'; readonly contributionId: string }
  | {
      readonly type: 'ModelRegistered';
      readonly modelId: string;
      readonly owner: string;
      readonly datanetIds: readonly string[];
      readonly split: RevenueSplit;
    }
  | { readonly type: 'ModelRetired'; readonly modelId: string };

export type EntityKind = 'datanet' | 'contribution' | 'model';

/** One table record: where it sits in the log, its record timestamp, and the event it carries. */
export interface TableRecord {
  readonly partition: number;
  readonly offset: bigint;
  /** The Kafka record timestamp in ms since the epoch (the as-of rule compares against it). */
  readonly timestampMs: number;
  readonly event: TableEvent;
}

/**
 * How far the fold got in one partition of one table topic. `watermarkMs` is the largest record
 * timestamp seen so far in the partition (-1 before the first record): a record is visible to an
 * inference of time T only when the watermark, including that record, is at most T, so a record with an
 * early timestamp behind a later one waits for the later one (visibility is a prefix of the partition).
 */
export interface PartitionProgress {
  readonly topic: string;
  readonly partition: number;
  readonly nextOffset: bigint;
  readonly watermarkMs: number;
}

interface VersionPosition {
  readonly id: string;
  readonly partition: number;
  readonly offset: bigint;
  /** The partition's watermark including the record that produced this version; see PartitionProgress. */
  readonly visibleFromMs: number;
}

export type EntityVersion =
  | (VersionPosition & { readonly entity: 'datanet'; readonly state: DatanetState })
  | (VersionPosition & { readonly entity: 'contribution'; readonly state: ContributionState })
  | (VersionPosition & { readonly entity: 'model'; readonly state: ModelTableState });

/** Why a table event cannot be applied; the service sends the record to its DLQ with this reason. */
export type TableRejectionReason =
  'UNKNOWN_ENTITY' | 'CONFLICTS_WITH_EXISTING' | typeof DATANET_TERMS_RULE | typeof PROTOCOL_POLICY_RULE;

/**
 * What the fold checks a new model against besides its own history: the operator's split policy (a
 * model asking more data share than the protocol's share leaves is refused) and, always, the terms of
 * the model's datanets as the fold knows them (a datanet not known yet is checked at decision time).
 */
export interface FoldOptions {
  readonly policy?: SplitPolicy;
}

export interface TableRejection {
  readonly record: TableRecord;
  readonly reason: TableRejectionReason;
  readonly detail: string;
}

/** The latest state of each entity the records of a batch touch, keyed by entityKey(). */
export type LatestStates = ReadonlyMap<string, EntityVersion['state']>;

export function entityKey(entity: EntityKind, id: string): string {
  return `${entity}:${id}`;
}

export function entityOf(event: TableEvent): { readonly entity: EntityKind; readonly id: string } {
  switch (event.type) {
    case 'DatanetCreated':
    case 'DatanetUpdated':
      return { entity: 'datanet', id: event.datanetId };
    case 'ContributionSubmitted':
    case 'ContributionValidated':
    case 'ContributionRevoked':
      return { entity: 'contribution', id: event.contributionId };
    case 'ModelRegistered':
    case 'ModelRetired':
      return { entity: 'model', id: event.modelId };
    default:
      return assertNever(event);
  }
}

type Evolved<S> =
  | { readonly ok: true; readonly state: S }
  | { readonly ok: false; readonly reason: TableRejectionReason; readonly detail: string };

/**
 * One datanet event applied to the datanet's state. A re-published DatanetCreated (same content) is
 * harmless; a different one for an existing id contradicts the log and is rejected.
 */
export function evolveDatanet(
  state: DatanetState | null,
  event: Extract<TableEvent, { type: 'DatanetCreated' | 'DatanetUpdated' }>,
): Evolved<DatanetState> {
  if (event.type === 'DatanetCreated') {
    const created: DatanetState = {
      datanetId: event.datanetId,
      owner: event.owner,
      curatorShareBps: event.curatorShareBps,
      minDataBps: event.minDataBps ?? 0,
      allowedModelOwners:
        event.allowedModelOwners === undefined || event.allowedModelOwners === null
          ? null
          : [...event.allowedModelOwners],
    };
    if (state === null || sameDatanet(state, created)) return { ok: true, state: created };
    return conflict(`datanet ${event.datanetId} already exists with other attributes`);
  }
  if (state === null) return unknown(`datanet ${event.datanetId} was updated before it was created`);
  // Terms change only the state from here on: decisions already made keep the terms they recorded.
  const allowedModelOwners =
    event.allowAnyModelOwner === true
      ? null
      : event.allowedModelOwners != null
        ? [...event.allowedModelOwners]
        : (state.allowedModelOwners ?? null);
  return {
    ok: true,
    state: {
      ...state,
      curatorShareBps: event.curatorShareBps ?? state.curatorShareBps,
      minDataBps: event.minDataBps ?? state.minDataBps ?? 0,
      allowedModelOwners,
    },
  };
}

/** Validation sets the status (the latest wins); revocation is final whatever comes after it. */
export function evolveContribution(
  state: ContributionState | null,
  event: Extract<TableEvent, { type: 'ContributionSubmitted' | 'ContributionValidated' | 'ContributionRevoked' }>,
): Evolved<ContributionState> {
  if (event.type === 'ContributionSubmitted') {
    const submitted: ContributionState = {
      contributionId: event.contributionId,
      datanetId: event.datanetId,
      contributor: event.contributor,
      status: 'SUBMITTED',
      revoked: false,
    };
    if (state === null) return { ok: true, state: submitted };
    // A re-published submission changes nothing, and must not reset a validation that followed it.
    if (state.datanetId === submitted.datanetId && state.contributor === submitted.contributor)
      return { ok: true, state };
    return conflict(
      `contribution ${event.contributionId} was already submitted by another contributor or to another datanet`,
    );
  }
  if (state === null)
    return unknown(`contribution ${event.contributionId} has no ContributionSubmitted before this event`);
  if (event.type === 'ContributionValidated') return { ok: true, state: { ...state, status: event.decision } };
  return { ok: true, state: { ...state, revoked: true } };
}

/**
 * One model event applied to the model's state. A new registration is refused when its data share does
 * not fit beside the operator's protocol share, or when it breaks the terms of a datanet it names whose
 * state `datanetOf` knows (the latest the fold has); a datanet not known yet is left to decision time.
 */
export function evolveModel(
  state: ModelTableState | null,
  event: Extract<TableEvent, { type: 'ModelRegistered' | 'ModelRetired' }>,
  datanetOf: (datanetId: string) => DatanetState | null = () => null,
  options: FoldOptions = {},
): Evolved<ModelTableState> {
  if (event.type === 'ModelRegistered') {
    const registered: ModelTableState = {
      modelId: event.modelId,
      owner: event.owner,
      datanetIds: [...event.datanetIds],
      split: { protocolBps: event.split.protocolBps, modelBps: event.split.modelBps, dataBps: event.split.dataBps },
      retired: false,
    };
    if (state === null) return refusedByTerms(registered, datanetOf, options) ?? { ok: true, state: registered };
    if (sameModel(state, registered)) return { ok: true, state };
    return conflict(`model ${event.modelId} is already registered with another owner, datanets or split`);
  }
  if (state === null) return unknown(`model ${event.modelId} was retired before it was registered`);
  return { ok: true, state: { ...state, retired: true } };
}

function refusedByTerms(
  model: ModelTableState,
  datanetOf: (datanetId: string) => DatanetState | null,
  options: FoldOptions,
): Evolved<never> | null {
  const view = { modelId: model.modelId, owner: model.owner, dataBps: model.split.dataBps };
  const policyBreach = options.policy === undefined ? null : protocolPolicyBreach(view, options.policy);
  if (policyBreach !== null) return { ok: false, reason: PROTOCOL_POLICY_RULE, detail: policyBreach };
  const known: DatanetState[] = [];
  for (const datanetId of model.datanetIds) {
    const datanet = datanetOf(datanetId);
    if (datanet !== null) known.push(datanet);
  }
  const detail = termsBreachDetail(view, known);
  return detail === null ? null : { ok: false, reason: DATANET_TERMS_RULE, detail };
}

export interface FoldResult {
  /** New versions, in offset order; a record that changes nothing adds no version. */
  readonly versions: readonly EntityVersion[];
  readonly rejected: readonly TableRejection[];
  readonly progress: PartitionProgress;
}

/**
 * Folds records of one partition, in offset order, onto the latest states. Records below
 * progress.nextOffset were applied before and are skipped, so applying a batch twice is harmless.
 * The result is the same however the partition's records are cut into batches (a property test holds
 * it to that).
 */
export function foldTableRecords(
  progress: PartitionProgress,
  latest: LatestStates,
  records: readonly TableRecord[],
  options: FoldOptions = {},
): FoldResult {
  const states = new Map(latest);
  const datanetOf = (datanetId: string) =>
    (states.get(entityKey('datanet', datanetId)) as DatanetState | undefined) ?? null;
  const versions: EntityVersion[] = [];
  const rejected: TableRejection[] = [];
  let { nextOffset, watermarkMs } = progress;
  for (const record of records) {
    assert(
      record.partition === progress.partition,
      `record of partition ${record.partition} folded into ${progress.partition}`,
    );
    if (record.offset < nextOffset) continue;
    watermarkMs = Math.max(watermarkMs, record.timestampMs);
    nextOffset = record.offset + 1n;
    const { entity, id } = entityOf(record.event);
    const key = entityKey(entity, id);
    const before = states.get(key) ?? null;
    const evolved = evolveEntity(before, record.event, datanetOf, options);
    if (!evolved.ok) {
      rejected.push({ record, reason: evolved.reason, detail: evolved.detail });
      continue;
    }
    if (before !== null && sameState(before, evolved.state)) continue;
    states.set(key, evolved.state);
    const position = { id, partition: record.partition, offset: record.offset, visibleFromMs: watermarkMs };
    versions.push({ ...position, entity, state: evolved.state } as EntityVersion);
  }
  return { versions, rejected, progress: { ...progress, nextOffset, watermarkMs } };
}

function evolveEntity(
  state: EntityVersion['state'] | null,
  event: TableEvent,
  datanetOf: (datanetId: string) => DatanetState | null,
  options: FoldOptions,
): Evolved<EntityVersion['state']> {
  switch (event.type) {
    case 'DatanetCreated':
    case 'DatanetUpdated':
      return evolveDatanet(state as DatanetState | null, event);
    case 'ContributionSubmitted':
    case 'ContributionValidated':
    case 'ContributionRevoked':
      return evolveContribution(state as ContributionState | null, event);
    case 'ModelRegistered':
    case 'ModelRetired':
      return evolveModel(state as ModelTableState | null, event, datanetOf, options);
    default:
      return assertNever(event);
  }
}

function sameDatanet(left: DatanetState, right: DatanetState): boolean {
  return (
    left.owner === right.owner &&
    left.curatorShareBps === right.curatorShareBps &&
    (left.minDataBps ?? 0) === (right.minDataBps ?? 0) &&
    canonicalJson(left.allowedModelOwners ?? null) === canonicalJson(right.allowedModelOwners ?? null)
  );
}

function sameModel(left: ModelTableState, right: ModelTableState): boolean {
  return (
    left.owner === right.owner &&
    left.datanetIds.length === right.datanetIds.length &&
    left.datanetIds.every((datanetId, index) => datanetId === right.datanetIds[index]) &&
    left.split.protocolBps === right.split.protocolBps &&
    left.split.modelBps === right.split.modelBps &&
    left.split.dataBps === right.split.dataBps
  );
}

/** Structural equality of two states of the same entity; key order of the objects does not matter. */
function sameState(left: EntityVersion['state'], right: EntityVersion['state']): boolean {
  return canonicalJson(left) === canonicalJson(right);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([left], [right]) => compareIds(left, right));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function conflict(detail: string): Evolved<never> {
  return { ok: false, reason: 'CONFLICTS_WITH_EXISTING', detail };
}

function unknown(detail: string): Evolved<never> {
  return { ok: false, reason: 'UNKNOWN_ENTITY', detail };
}
