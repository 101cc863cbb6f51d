import { explain, recordedJoinRule } from '@tributary/attribution';
import { fromRecord } from '@tributary/contracts';
import type { StoredDecision } from '../decision/decision-store';
import { recompute, sameCredits } from '../decision/wire';

/**
 * The lines of `explain` for one stored decision: the policy re-run on the inputs the decision
 * recorded (so the explanation is the policy's own reasoning), the join rule the decision recorded
 * (v1 decisions keep theirs), plus where the decision sits and a check that the recomputed credits
 * equal the published ones. The join rule chose those inputs; recomputing needs only the inputs.
 */
export function explainStored(stored: StoredDecision): string[] {
  const decoded = fromRecord(stored.value, stored.headers);
  if (decoded.type !== 'InferenceAttributed')
    throw new Error(`stored decision of ${stored.inferenceId} is a ${decoded.type}`);
  const event = decoded.data;
  const decision = recompute(event, stored.method);
  const check = sameCredits(event, decision)
    ? 'Recomputed from the recorded inputs: the credits match the published decision.'
    : 'WARNING: recomputing from the recorded inputs gives other credits than the published decision.';
  return [
    ...explain(decision),
    `Ordering: ${event.orderingRule}.`,
    recordedJoinRule(event.orderingRule)?.explanation ??
      'The recorded orderingRule names no join rule this service knows.',
    `Decision ${event.eventId} for inference event ${event.inferenceEventId} (inference partition ${stored.inferencePartition}, offset ${stored.inferenceOffset}).`,
    check,
  ];
}
