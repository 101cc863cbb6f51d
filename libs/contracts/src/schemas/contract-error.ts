// The one error type the codecs throw for bad input, so the gateway can answer "rejected, and here is
// why, field by field" (guarantee 1) and consumers can send a poison record to the DLQ with a reason.

export type ContractRule =
  | 'unknownEventType'
  | 'unknownVersion'
  | 'missingField'
  | 'unknownField'
  | 'wrongType'
  | 'min'
  | 'max'
  | 'minLength'
  | 'maxLength'
  | 'maxItems'
  | 'sum'
  | 'malformed';

export interface ContractIssue {
  /** Path of the offending value, e.g. `attributions[3].scorePpm`; empty for the whole event. */
  readonly path: string;
  readonly rule: ContractRule;
  /** Says what was expected. Never echoes the offending value: it may be huge or confidential. */
  readonly message: string;
}

/** Validation stops collecting after this many issues, so a hostile payload cannot make a huge error. */
export const CONTRACT_ISSUES_MAX = 100;

export class ContractError extends Error {
  override readonly name = 'ContractError';

  constructor(
    readonly eventType: string,
    readonly version: number | undefined,
    readonly issues: readonly ContractIssue[],
  ) {
    super(formatMessage(eventType, version, issues));
  }
}

function formatMessage(eventType: string, version: number | undefined, issues: readonly ContractIssue[]): string {
  const subject = version === undefined ? eventType : `${eventType} v${version}`;
  const lines = issues.map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`));
  return `${subject}: ${lines.join('; ')}`;
}
