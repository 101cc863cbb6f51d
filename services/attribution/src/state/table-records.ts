import { ContractError, fromRecord } from '@tributary/contracts';
import type { TableEvent } from '@tributary/attribution';
import type { InboundRecord } from '@tributary/messaging';

/** A table record that cannot be folded; the reason names the field and the rule, and goes to the DLQ. */
export class TableRecordRejected extends Error {
  override readonly name = 'TableRecordRejected';
}

/**
 * Reads a datanet, contribution or model record off the wire into the domain's table event. Only the
 * fields the policy reads are kept; the rest (names, licenses, hashes) stays in the log for lineage.
 */
export function readTableEvent(record: InboundRecord): TableEvent {
  let decoded;
  try {
    decoded = fromRecord(record.value, record.headers);
  } catch (error) {
    if (error instanceof ContractError) throw new TableRecordRejected(error.message);
    throw error;
  }
  const key = record.key?.toString('utf8');
  const event = tableEventOf(decoded);
  if (event === null)
    throw new TableRecordRejected(`ce_type: ${decoded.envelope.type} does not belong on ${record.topic}`);
  if (key !== decoded.envelope.subject)
    throw new TableRecordRejected(`key: must equal the event's entity id ${decoded.envelope.subject}`);
  return event;
}

function tableEventOf(decoded: ReturnType<typeof fromRecord>): TableEvent | null {
  switch (decoded.type) {
    case 'DatanetCreated': {
      // A v1 record reads with the v2 defaults: no minimum data share, any model owner.
      const { datanetId, ownerId, curatorShareBps, minDataBps, allowedModelOwners } = decoded.data;
      return { type: 'DatanetCreated', datanetId, owner: ownerId, curatorShareBps, minDataBps, allowedModelOwners };
    }
    case 'DatanetUpdated': {
      const { datanetId, curatorShareBps, minDataBps, allowedModelOwners, allowAnyModelOwner } = decoded.data;
      if (allowAnyModelOwner && allowedModelOwners !== null) {
        throw new TableRecordRejected(
          'allowAnyModelOwner: must not be true together with a list of allowedModelOwners',
        );
      }
      return { type: 'DatanetUpdated', datanetId, curatorShareBps, minDataBps, allowedModelOwners, allowAnyModelOwner };
    }
    case 'ContributionSubmitted': {
      const { contributionId, datanetId, contributorId } = decoded.data;
      return { type: 'ContributionSubmitted', contributionId, datanetId, contributor: contributorId };
    }
    case 'ContributionValidated':
      return {
        type: 'ContributionValidated',
        contributionId: decoded.data.contributionId,
        decision: decoded.data.decision,
      };
    case 'ContributionRevoked':
      return { type: 'ContributionRevoked', contributionId: decoded.data.contributionId };
    case 'ModelRegistered': {
      const { modelId, ownerId, datanetIds, split } = decoded.data;
      return { type: 'ModelRegistered', modelId, owner: ownerId, datanetIds, split };
    }
    case 'ModelRetired':
      return { type: 'ModelRetired', modelId: decoded.data.modelId };
    case 'InferenceCompleted':
    case 'InferenceAttributed':
    case 'PayoutRequested':
    case 'PayoutSettled':
    case 'PayoutFailed':
    case 'FundsDeposited':
    case 'FundsReversed':
      return null;
  }
}
