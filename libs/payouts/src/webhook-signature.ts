// The webhook rail's signature, both sides: `signWebhook` is what the payouts service sends, and
// `verifyWebhookSignature` is the check a receiver runs on every request before acting on it. Pure and
// dependency-free apart from node:crypto, so a receiver can import it (or vendor this one file).
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of a webhook rail request; the receiver verifies the signature and deduplicates on the key. */
export const WEBHOOK_HEADERS = {
  signature: 'x-tributary-signature',
  timestamp: 'x-tributary-timestamp',
  idempotencyKey: 'idempotency-key',
} as const;

/** How far a request's timestamp may be from the receiver's clock, either way, by default: 5 minutes. */
export const WEBHOOK_TOLERANCE_SECONDS_DEFAULT = 300;
/** The bounds of `toleranceSeconds`: at least 1 s, at most 1 hour (a longer window is a longer replay window). */
export const WEBHOOK_TOLERANCE_SECONDS_MIN = 1;
export const WEBHOOK_TOLERANCE_SECONDS_MAX = 3_600;

const SIGNATURE_PREFIX = 'sha256=';
const DIGEST_BYTES = 32;
/** Milliseconds since the epoch as the rail writes them: decimal digits only, no sign, no exponent. */
const TIMESTAMP = /^[0-9]{1,15}$/;
/** `sha256=` then hex; the length is checked later, in the comparison, so a wrong one is a bad signature. */
const SIGNATURE = /^sha256=(?:[0-9a-fA-F]{2}){0,512}$/;

/**
 * HMAC-SHA256 over `<timestampMs>.<body>`, hex, prefixed `sha256=`. Signing the timestamp with the
 * body means the timestamp cannot be moved without breaking the signature, so a receiver can refuse
 * replays older than its tolerance.
 */
export function signWebhook(secret: string, timestampMs: number, body: string | Uint8Array): string {
  return `${SIGNATURE_PREFIX}${digest(secret, String(timestampMs), body).toString('hex')}`;
}

/** A header as node:http gives it: absent, one value, or several (a repeated header). */
export type HeaderValue = string | readonly string[] | undefined;

export interface WebhookRequestParts {
  /** The `X-Tributary-Timestamp` header, as received. */
  readonly timestamp: HeaderValue;
  /** The `X-Tributary-Signature` header, as received. */
  readonly signature: HeaderValue;
  /** The raw request body, exactly the bytes received (not re-serialized JSON). */
  readonly body: string | Uint8Array;
}

export interface WebhookVerifyOptions {
  /** Greatest distance between the request's timestamp and `now`, either way; default 300, 1 to 3600. */
  readonly toleranceSeconds?: number;
  /** The receiver's clock in milliseconds since the epoch; default `Date.now`. Injectable for tests. */
  readonly now?: () => number;
}

export type WebhookRejection =
  | 'missing-timestamp'
  | 'malformed-timestamp'
  | 'missing-signature'
  | 'malformed-signature'
  | 'bad-signature'
  | 'timestamp-too-old'
  | 'timestamp-too-new';

/**
 * What the verifier decided. A request is never "rejected" by an exception: every outcome, accepted or
 * not, is a value naming it. Only misuse by the caller (an empty secret, an invalid option) throws.
 */
export type WebhookVerification =
  | { readonly ok: true; readonly timestampMs: number; readonly ageMs: number }
  | { readonly ok: false; readonly reason: WebhookRejection; readonly message: string; readonly ageMs?: number };

/** Thrown for a caller's mistake (not for a bad request): an invalid option or an empty secret. */
export class WebhookVerifierConfigError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerifierConfigError';
  }
}

/**
 * The receiver's check of a webhook rail request. In order: both headers present and well formed; the
 * signature equal, compared in constant time on equal-length buffers, to the HMAC of
 * `<timestamp>.<body>` under the secret; and the timestamp no more than `toleranceSeconds` older or
 * newer than `now`. A request replayed after the tolerance is `timestamp-too-old`; a timestamp moved
 * forward to dodge that is `bad-signature`. Act on the request only when `ok` is true, then deduplicate
 * on the Idempotency-Key.
 */
export function verifyWebhookSignature(
  request: WebhookRequestParts,
  secret: string,
  options: WebhookVerifyOptions = {},
): WebhookVerification {
  const toleranceMs = toleranceOf(options) * 1_000;
  if (typeof secret !== 'string' || secret.length === 0)
    throw new WebhookVerifierConfigError('secret', 'secret: must be a non-empty string');
  const now = options.now ?? Date.now;

  const timestamp = single(request.timestamp);
  if (timestamp === undefined) return reject('missing-timestamp', `${WEBHOOK_HEADERS.timestamp} header is missing`);
  if (timestamp === null || !TIMESTAMP.test(timestamp))
    return reject(
      'malformed-timestamp',
      `${WEBHOOK_HEADERS.timestamp} header must be one value of milliseconds since the epoch (decimal digits)`,
    );
  const signature = single(request.signature);
  if (signature === undefined) return reject('missing-signature', `${WEBHOOK_HEADERS.signature} header is missing`);
  if (signature === null || !SIGNATURE.test(signature))
    return reject('malformed-signature', `${WEBHOOK_HEADERS.signature} header must be one value "sha256=<hex>"`);

  const expected = digest(secret, timestamp, request.body);
  const given = Buffer.from(signature.slice(SIGNATURE_PREFIX.length), 'hex');
  // timingSafeEqual needs equal lengths; a given signature of another length is compared against the
  // expected digest itself (same work), and the length mismatch decides. Its length is no secret.
  const sameLength = given.length === DIGEST_BYTES;
  const equal = timingSafeEqual(expected, sameLength ? given : expected) && sameLength;
  if (!equal)
    return reject(
      'bad-signature',
      `${WEBHOOK_HEADERS.signature} does not match the timestamp and body under this secret`,
    );

  const timestampMs = Number(timestamp);
  const ageMs = now() - timestampMs;
  if (ageMs > toleranceMs)
    return reject(
      'timestamp-too-old',
      `timestamp is ${ageMs} ms old, more than the tolerance of ${toleranceMs} ms: a late delivery or a replay`,
      ageMs,
    );
  if (-ageMs > toleranceMs)
    return reject(
      'timestamp-too-new',
      `timestamp is ${-ageMs} ms in the future, more than the tolerance of ${toleranceMs} ms: check both clocks`,
      ageMs,
    );
  return { ok: true, timestampMs, ageMs };
}

function toleranceOf(options: WebhookVerifyOptions): number {
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS_DEFAULT;
  if (
    !Number.isInteger(tolerance) ||
    tolerance < WEBHOOK_TOLERANCE_SECONDS_MIN ||
    tolerance > WEBHOOK_TOLERANCE_SECONDS_MAX
  ) {
    throw new WebhookVerifierConfigError(
      'toleranceSeconds',
      `toleranceSeconds: must be an integer from ${WEBHOOK_TOLERANCE_SECONDS_MIN} to ${WEBHOOK_TOLERANCE_SECONDS_MAX}, got ${String(tolerance)}`,
    );
  }
  if (options.now !== undefined && typeof options.now !== 'function')
    throw new WebhookVerifierConfigError('now', 'now: must be a function returning milliseconds since the epoch');
  return tolerance;
}

/** undefined when absent, null when repeated, else the one value. */
function single(value: HeaderValue): string | null | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value.length === 1 ? value[0]! : value.length === 0 ? undefined : null;
}

function digest(secret: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

function reject(reason: WebhookRejection, message: string, ageMs?: number): WebhookVerification {
  return ageMs === undefined ? { ok: false, reason, message } : { ok: false, reason, message, ageMs };
}
