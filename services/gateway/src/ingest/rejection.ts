/** Why a request was refused; the `reason` label of gateway_events_rejected_total. */
export type RejectionReason =
  | 'invalid'
  | 'malformed_json'
  | 'batch_too_large'
  | 'too_large'
  | 'unauthenticated'
  | 'forbidden'
  | 'conflict'
  | 'in_flight'
  | 'unavailable'
  | 'overloaded'
  | 'rate_limited';

/** One offending field: where it is, the rule it breaks, what was expected. */
export interface RequestIssue {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

/**
 * An expected refusal, mapped to its HTTP status at the edge (GatewayExceptionFilter). Nothing was
 * sent to Kafka when one is thrown, except where the message says otherwise.
 */
export class GatewayRejection extends Error {
  override readonly name = 'GatewayRejection';

  constructor(
    readonly status: number,
    readonly reason: RejectionReason,
    message: string,
    readonly issues: readonly RequestIssue[] = [],
    readonly retryAfterS?: number,
  ) {
    super(message);
  }

  body() {
    return {
      statusCode: this.status,
      error: this.reason,
      message: this.message,
      ...(this.issues.length > 0 ? { issues: this.issues } : {}),
    };
  }
}

/** Kafka did not acknowledge (broker unreachable, timeout, fenced producer): nothing is reported as written. */
export class KafkaUnavailableError extends Error {
  override readonly name = 'KafkaUnavailableError';
}

/** Too much is already waiting for Kafka; the caller should come back later. */
export class KafkaOverloadedError extends Error {
  override readonly name = 'KafkaOverloadedError';
}
