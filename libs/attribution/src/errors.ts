/**
 * Two kinds of failure, kept apart on purpose (TigerBeetle): bad input is expected and gets a typed
 * error the edge maps to a rejection or a DLQ reason; a broken invariant is a bug in this library
 * and must crash rather than write a wrong ledger.
 */

/** The rule an input field broke. Stable codes, so callers can map them without parsing text. */
export type InputRule =
  | 'STRING'
  | 'NON_EMPTY'
  | 'LENGTH_MAX'
  | 'INTEGER'
  | 'BIGINT'
  | 'BOOLEAN'
  | 'ARRAY'
  | 'MIN'
  | 'MAX'
  | 'COUNT_MAX'
  | 'SUM_10000'
  | 'UNIQUE'
  | 'ONE_OF'
  | 'MATCHES_INFERENCE'
  | 'KNOWN'
  | 'DATANET_TERMS'
  | 'PROTOCOL_POLICY';

/** Expected bad input: names the field (a path such as `inference.attributions[3].scorePpm`) and the rule. */
export class AttributionInputError extends Error {
  override readonly name = 'AttributionInputError';

  constructor(
    readonly field: string,
    readonly rule: InputRule,
    detail: string,
  ) {
    super(`${field} breaks rule ${rule}: ${detail}`);
  }
}

/** A broken invariant of the policy: a programmer error, never caused by input alone. */
export class AttributionAssertionError extends Error {
  override readonly name = 'AssertionError';
}

/**
 * Throws AttributionAssertionError unless `condition` holds. A message that names values is passed as a
 * function, so it is built only on failure: the policy asserts on every share of every decision.
 */
export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new AttributionAssertionError(typeof message === 'string' ? message : message());
}

/** Ends an exhaustive switch: a new union member nobody handles fails to compile here. */
export function assertNever(value: never): never {
  throw new AttributionAssertionError(`unhandled case: ${JSON.stringify(value)}`);
}
