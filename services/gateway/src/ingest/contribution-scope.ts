// The datanet scope of contributions, which the event alone cannot show: a ContributionValidated or
// ContributionRevoked names only its contribution, so the gateway judges it by the datanet that
// contribution was submitted to, as the gateway recorded it when it accepted the ContributionSubmitted.
import type { EventType } from '@tributary/contracts';
import { ANY, type ApiKeyScope } from '../auth/api-key';

/**
 * What one event asks of the contribution table: a submission records its contribution's datanet
 * (`datanetId` set); a validation or revocation by a datanet-scoped key looks it up (`datanetId` null).
 */
export interface ContributionClaim {
  readonly contributionId: string;
  readonly datanetId: string | null;
}

export interface ContributionIssue {
  /** The event's index in the request. */
  readonly index: number;
  readonly status: 403 | 409;
  readonly rule: 'contributionNotInScope' | 'contributionUnknown' | 'contributionIdTaken';
  readonly message: string;
}

const JUDGED_BY_CONTRIBUTION: ReadonlySet<EventType> = new Set(['ContributionValidated', 'ContributionRevoked']);

/**
 * What each event of a request needs from the contribution table, by index; undefined for events that
 * need nothing. Every submission is recorded, whoever sends it, so later validations can be judged; a
 * key for all datanets (`*`) is never judged, so its validations and revocations cost no lookup.
 */
export function contributionClaims(
  scope: ApiKeyScope,
  events: ReadonlyArray<{ readonly type: EventType; readonly data: Record<string, unknown> }>,
): Array<ContributionClaim | undefined> {
  const judged = !scope.datanetIds.includes(ANY);
  return events.map(({ type, data }) => {
    const contributionId = data['contributionId'];
    if (typeof contributionId !== 'string') return undefined;
    if (type === 'ContributionSubmitted' && typeof data['datanetId'] === 'string')
      return { contributionId, datanetId: data['datanetId'] };
    if (judged && JUDGED_BY_CONTRIBUTION.has(type)) return { contributionId, datanetId: null };
    return undefined;
  });
}

/**
 * Why events may not go, given the datanet the table holds for each contribution id after this
 * request's submissions were recorded (absent: the gateway never accepted a submission of it).
 * A submission whose id is held by another datanet is a 409: the id is taken, and taking it into a
 * datanet the key owns would hand that key the other datanet's contribution.
 */
export function contributionIssues(
  scope: ApiKeyScope,
  claims: ReadonlyArray<ContributionClaim | undefined>,
  recorded: ReadonlyMap<string, string>,
): ContributionIssue[] {
  const issues: ContributionIssue[] = [];
  claims.forEach((claim, index) => {
    if (claim === undefined) return;
    const datanetId = recorded.get(claim.contributionId);
    if (claim.datanetId !== null) {
      if (datanetId !== undefined && datanetId !== claim.datanetId) {
        issues.push({
          index,
          status: 409,
          rule: 'contributionIdTaken',
          message:
            'this contributionId was already submitted to another datanet; a contribution belongs to one datanet, so choose another contributionId',
        });
      }
    } else if (datanetId === undefined) {
      issues.push({
        index,
        status: 403,
        rule: 'contributionUnknown',
        message:
          'the gateway holds no ContributionSubmitted for this contributionId, so it cannot tell its datanet; submit it through the gateway first, or use a key for all datanets (*)',
      });
    } else if (!scope.datanetIds.includes(datanetId)) {
      issues.push({
        index,
        status: 403,
        rule: 'contributionNotInScope',
        message: "this key may not validate or revoke contributions of this contribution's datanet",
      });
    }
  });
  return issues;
}
