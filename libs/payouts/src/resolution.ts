import { RAIL_REFERENCE } from './rail-answer';

/**
 * An operator's record of the rail's definite answer for a payout waiting for reconciliation: what the
 * rail said (settled with its reference, or refused with its reason), who checked, when, and the
 * evidence (a ticket, a bank statement line). It moves the payout once; the record stays with it.
 */
export interface Resolution {
  readonly outcome: 'settled' | 'refused';
  /** The rail's reference for the payment when settled; the rail's reason when refused. */
  readonly detail: string;
  readonly by: string;
  readonly at: string;
  readonly evidence: string;
}

export const RESOLUTION_TEXT_MAX = 4_096;
const WHO = /^[\x21-\x7e][\x20-\x7e]{0,255}$/;

/** Validates an operator's resolution from HTTP or the command line; every error names the field and its rule. */
export function parseResolution(input: unknown, nowMs: number): Resolution {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new RangeError('body: must be a JSON object');
  const value = input as Record<string, unknown>;
  const unknownField = Object.keys(value).find(
    (key) => !['outcome', 'reference', 'reason', 'by', 'at', 'evidence'].includes(key),
  );
  if (unknownField)
    throw new RangeError(
      `${unknownField.slice(0, 64)}: is not a field of a resolution (outcome, reference, reason, by, at, evidence)`,
    );
  const outcome = value['outcome'];
  if (outcome !== 'settled' && outcome !== 'refused') throw new RangeError('outcome: must be "settled" or "refused"');
  const text = (field: string, rule: (text: string) => boolean, ruleText: string, required: boolean): string => {
    const given = value[field];
    if (given === undefined && !required) return '';
    if (typeof given !== 'string' || !rule(given)) throw new RangeError(`${field}: ${ruleText}`);
    return given;
  };
  const bounded = (text: string) =>
    text.trim().length > 0 && text.length <= RESOLUTION_TEXT_MAX && !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text);
  let detail: string;
  if (outcome === 'settled') {
    if (value['reason'] !== undefined) throw new RangeError('reason: only for outcome "refused"');
    detail = text(
      'reference',
      (t) => RAIL_REFERENCE.test(t),
      'is required for "settled": the rail\'s reference, 1 to 256 printable characters without spaces',
      true,
    );
  } else {
    if (value['reference'] !== undefined) throw new RangeError('reference: only for outcome "settled"');
    detail = text(
      'reason',
      bounded,
      `is required for "refused": the rail's reason, 1 to ${RESOLUTION_TEXT_MAX} characters`,
      true,
    );
  }
  const by = text('by', (t) => WHO.test(t), 'is required: who checked the rail, 1 to 256 printable characters', true);
  const evidence = text(
    'evidence',
    bounded,
    `must be 1 to ${RESOLUTION_TEXT_MAX} characters (a ticket, a statement line)`,
    true,
  );
  const atText = text(
    'at',
    (t) => t.length <= 64 && !Number.isNaN(Date.parse(t)),
    'must be an ISO 8601 date and time',
    false,
  );
  const atMs = atText === '' ? nowMs : Date.parse(atText);
  if (atMs > nowMs + 60_000) throw new RangeError('at: must not be in the future');
  return { outcome, detail, by, at: new Date(atMs).toISOString(), evidence };
}
