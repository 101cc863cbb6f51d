/**
 * What a rail's answer means for a payout, in one place: paid, refused for good, or unknown. The saga
 * treats anything that is not a definite answer as unknown, because money may have moved: a timeout, a
 * 5xx, a reset after the request left, a 4xx that does not say "refused". Only `refused` lets an amount
 * return to payable.
 *
 * The webhook rail's contract (README, "Webhook rail"):
 *   payment  POST <PAYOUTS_WEBHOOK_URL>          2xx                      → paid (body `reference`, optional)
 *                                                2xx or 4xx with {"status":"refused","reason":...} → refused
 *                                                anything else, or no answer → unknown
 *   status   POST <PAYOUTS_WEBHOOK_STATUS_URL>   2xx with {"status":"paid","reference":...}  → paid
 *                                                2xx or 4xx with {"status":"refused",...}    → refused
 *                                                anything else → unknown (asked again later)
 * A receiver answers "refused" only when it did not pay that idempotency key and never will.
 */
export type RailAnswer =
  | { readonly type: 'paid'; readonly reference: string }
  | { readonly type: 'refused'; readonly reason: string }
  | { readonly type: 'unknown'; readonly reason: string };

export const RAIL_REFERENCE = /^[\x21-\x7e]{1,256}$/;
const REASON_LENGTH_MAX = 1_024;

interface AnswerBody {
  readonly status?: unknown;
  readonly reference?: unknown;
  readonly reason?: unknown;
}

/** The answer to a payment request: `fallbackReference` when a 2xx gives no printable reference. */
export function paymentAnswer(httpStatus: number, bodyText: string, fallbackReference: string): RailAnswer {
  const body = jsonBody(bodyText);
  if (body && isRefusal(httpStatus, body)) return refused(body);
  if (isSuccess(httpStatus)) return { type: 'paid', reference: referenceIn(body) ?? fallbackReference };
  return { type: 'unknown', reason: `HTTP ${httpStatus}: ${printable(bodyText).slice(0, 200)}` };
}

/** The answer to a status query by idempotency key: only an explicit "paid" or "refused" is definite. */
export function statusAnswer(httpStatus: number, bodyText: string): RailAnswer {
  const body = jsonBody(bodyText);
  if (body && isRefusal(httpStatus, body)) return refused(body);
  const reference = referenceIn(body);
  if (isSuccess(httpStatus) && body?.status === 'paid' && reference) return { type: 'paid', reference };
  return { type: 'unknown', reason: `status query answered HTTP ${httpStatus}: ${printable(bodyText).slice(0, 200)}` };
}

const isSuccess = (httpStatus: number) => httpStatus >= 200 && httpStatus <= 299;

function isRefusal(httpStatus: number, body: AnswerBody | null): boolean {
  return body?.status === 'refused' && (isSuccess(httpStatus) || (httpStatus >= 400 && httpStatus <= 499));
}

function refused(body: AnswerBody): RailAnswer {
  const reason =
    typeof body.reason === 'string' && body.reason.length > 0
      ? printable(body.reason).slice(0, REASON_LENGTH_MAX)
      : 'refused by the rail (no reason given)';
  return { type: 'refused', reason };
}

function referenceIn(body: AnswerBody | null): string | null {
  return typeof body?.reference === 'string' && RAIL_REFERENCE.test(body.reference) ? body.reference : null;
}

function jsonBody(text: string): AnswerBody | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** Control characters out, so an answer can be logged and stored as it came. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ');
}
