import { compareIds } from './accounts';
import { AttributionInputError } from './errors';
import { BPS_TOTAL } from './limits';
import { sortInPlace } from './sort';
import type { DatanetState, DatanetTerms, RevenueSplit, SplitPolicy } from './types';

/**
 * Datanet terms and the operator's split policy: pure rules, shared by the attribution service's table
 * fold (a ModelRegistered is checked against the datanets' terms as then known) and by the policy (every
 * decision is checked against the terms as of its inference), so both places refuse for the same words.
 */

/** The rule a model breaking a datanet's terms is refused under (DLQ reason and AttributionInputError rule). */
export const DATANET_TERMS_RULE = 'DATANET_TERMS' as const;
/** The rule a model asking more data share than the operator's protocol share leaves is refused under. */
export const PROTOCOL_POLICY_RULE = 'PROTOCOL_POLICY' as const;

/** One term of one datanet that a model breaks, with the values compared. */
export type TermsBreach =
  | { readonly datanetId: string; readonly term: 'minDataBps'; readonly required: number; readonly actual: number }
  | {
      readonly datanetId: string;
      readonly term: 'allowedModelOwners';
      readonly allowed: readonly string[];
      readonly actual: string;
    };

/** What of a model the terms read: its owner and the data share it gives. */
export interface ModelTermsView {
  readonly modelId: string;
  readonly owner: string;
  readonly dataBps: number;
}

/** A datanet's terms with the defaults filled in: no minimum, any model owner. */
export function termsOf(datanet: DatanetTerms): {
  readonly minDataBps: number;
  readonly allowedModelOwners: readonly string[] | null;
} {
  return { minDataBps: datanet.minDataBps ?? 0, allowedModelOwners: datanet.allowedModelOwners ?? null };
}

/**
 * Every term of the given datanets the model breaks, ordered by datanet id then term: its data share
 * below a datanet's `minDataBps`, or its owner missing from a datanet's `allowedModelOwners` list.
 */
export function termsBreaches(model: ModelTermsView, datanets: readonly DatanetState[]): TermsBreach[] {
  const breaches: TermsBreach[] = [];
  for (const datanet of datanets) {
    const { minDataBps, allowedModelOwners } = termsOf(datanet);
    if (model.dataBps < minDataBps)
      breaches.push({ datanetId: datanet.datanetId, term: 'minDataBps', required: minDataBps, actual: model.dataBps });
    if (allowedModelOwners !== null && !allowedModelOwners.includes(model.owner)) {
      breaches.push({
        datanetId: datanet.datanetId,
        term: 'allowedModelOwners',
        allowed: allowedModelOwners,
        actual: model.owner,
      });
    }
  }
  if (breaches.length < 2) return breaches;
  return sortInPlace(
    breaches,
    (left, right) => compareIds(left.datanetId, right.datanetId) || compareIds(left.term, right.term),
  );
}

/** One breach in words, naming the datanet, the term and both values. */
export function termsBreachText(model: ModelTermsView, breach: TermsBreach): string {
  if (breach.term === 'minDataBps') {
    return `datanet ${breach.datanetId} requires minDataBps ${breach.required}; model ${model.modelId} gives dataBps ${breach.actual}`;
  }
  const allowed = breach.allowed.length === 0 ? 'no model owner' : `only model owners [${breach.allowed.join(', ')}]`;
  return `datanet ${breach.datanetId} admits ${allowed} (allowedModelOwners); model ${model.modelId} is owned by ${breach.actual}`;
}

/** All breaches in one line (the DLQ reason's detail), or null when the model keeps every term. */
export function termsBreachDetail(model: ModelTermsView, datanets: readonly DatanetState[]): string | null {
  const breaches = termsBreaches(model, datanets);
  return breaches.length === 0 ? null : breaches.map((breach) => termsBreachText(model, breach)).join('; ');
}

/** Why a model's data share does not fit beside the operator's protocol share, or null when it fits. */
export function protocolPolicyBreach(model: ModelTermsView, policy: SplitPolicy): string | null {
  const dataBpsMax = BPS_TOTAL - policy.protocolBps;
  if (model.dataBps <= dataBpsMax) return null;
  return `model ${model.modelId} asks dataBps ${model.dataBps} but policy v${policy.version} leaves at most ${dataBpsMax} beside the protocol's ${policy.protocolBps}`;
}

/**
 * The split a decision applies: under v1 (no policy) the model's registered split; under v2 the
 * operator's protocol share, the model's data share, and the rest to the model owner. Throws
 * AttributionInputError (rule PROTOCOL_POLICY) when the model's data share does not fit.
 */
export function appliedSplit(
  model: { readonly modelId: string; readonly owner: string; readonly split: RevenueSplit },
  policy: SplitPolicy | undefined,
): RevenueSplit {
  const { protocolBps, modelBps, dataBps } = model.split;
  if (policy === undefined) return { protocolBps, modelBps, dataBps };
  const breach = protocolPolicyBreach({ modelId: model.modelId, owner: model.owner, dataBps }, policy);
  if (breach !== null) throw new AttributionInputError('model.split.dataBps', PROTOCOL_POLICY_RULE, breach);
  return { protocolBps: policy.protocolBps, modelBps: BPS_TOTAL - policy.protocolBps - dataBps, dataBps };
}
