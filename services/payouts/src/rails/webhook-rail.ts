import { signWebhook, WEBHOOK_HEADERS } from '@tributary/payouts';
import type { PayoutInstruction, PayoutRail, RailOutcome } from './rail';

export interface WebhookRailOptions {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
}

const RESPONSE_BYTES_MAX = 16_384;
const REFERENCE = /^[\x21-\x7e]{1,256}$/;

/**
 * POSTs each payout to a configured URL, signed with HMAC-SHA256 over `<timestamp>.<body>`, with the
 * payout id as Idempotency-Key. A 2xx settles (the reference is the response's `reference` when it
 * gives a printable one, else derived from the id); any other status, a timeout or a network error is
 * a failed attempt the saga retries.
 */
export class WebhookRail implements PayoutRail {
  readonly name = 'webhook';

  constructor(private readonly options: WebhookRailOptions) {}

  async settle(instruction: PayoutInstruction): Promise<RailOutcome> {
    const body = JSON.stringify({
      payoutId: instruction.payoutId,
      accountId: instruction.accountId,
      asset: instruction.asset,
      // A decimal string: JSON numbers lose precision past 2^53, and money must not.
      amountMinor: instruction.amountMinor.toString(),
      epoch: instruction.epoch,
      attempt: instruction.attempt,
    });
    const timestampMs = Date.now();
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_HEADERS.idempotencyKey]: instruction.payoutId,
          [WEBHOOK_HEADERS.timestamp]: String(timestampMs),
          [WEBHOOK_HEADERS.signature]: signWebhook(this.options.secret, timestampMs, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = (await response.text()).slice(0, RESPONSE_BYTES_MAX);
      if (response.status < 200 || response.status > 299) return { ok: false, reason: `webhook answered HTTP ${response.status}: ${text.slice(0, 200)}` };
      return { ok: true, reference: referenceFrom(text) ?? `webhook:${instruction.payoutId}` };
    } catch (error) {
      return { ok: false, reason: `webhook call failed: ${(error as Error).name}: ${(error as Error).message}` };
    }
  }
}

function referenceFrom(text: string): string | null {
  try {
    const parsed = JSON.parse(text) as { reference?: unknown };
    return typeof parsed.reference === 'string' && REFERENCE.test(parsed.reference) ? parsed.reference : null;
  } catch {
    return null;
  }
}
