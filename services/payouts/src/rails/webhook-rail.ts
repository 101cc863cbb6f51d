import { paymentAnswer, signWebhook, statusAnswer, WEBHOOK_HEADERS, type RailAnswer } from '@tributary/payouts';
import type { PayoutInstruction, PayoutRail } from './rail';

export interface WebhookRailOptions {
  readonly url: string;
  /** Where the receiver answers what became of an idempotency key; without it, only an operator can reconcile. */
  readonly statusUrl: string | undefined;
  readonly secret: string;
  readonly timeoutMs: number;
}

const RESPONSE_BYTES_MAX = 16_384;

/**
 * POSTs each payout to a configured URL, signed with HMAC-SHA256 over `<timestamp>.<body>`, with the
 * payout id as Idempotency-Key. What the answer means is the contract in libs/payouts (rail-answer.ts):
 * a 2xx is paid, an explicit {"status":"refused"} is refused, everything else (a timeout, a 5xx, a
 * network error) is unknown. The status query is the same signed POST to the status URL, body
 * {"payoutId"}.
 */
export class WebhookRail implements PayoutRail {
  readonly name = 'webhook';
  readonly status?: (payoutId: string) => Promise<RailAnswer>;

  constructor(private readonly options: WebhookRailOptions) {
    const statusUrl = options.statusUrl;
    if (statusUrl)
      this.status = (payoutId) =>
        this.post(statusUrl, payoutId, JSON.stringify({ payoutId }), (status, text) => statusAnswer(status, text));
  }

  async settle(instruction: PayoutInstruction): Promise<RailAnswer> {
    const body = JSON.stringify({
      payoutId: instruction.payoutId,
      accountId: instruction.accountId,
      asset: instruction.asset,
      // A decimal string: JSON numbers lose precision past 2^53, and money must not.
      amountMinor: instruction.amountMinor.toString(),
      epoch: instruction.epoch,
      attempt: instruction.attempt,
    });
    return this.post(this.options.url, instruction.payoutId, body, (status, text) =>
      paymentAnswer(status, text, `webhook:${instruction.payoutId}`),
    );
  }

  private async post(
    url: string,
    payoutId: string,
    body: string,
    answer: (status: number, text: string) => RailAnswer,
  ): Promise<RailAnswer> {
    const timestampMs = Date.now();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_HEADERS.idempotencyKey]: payoutId,
          [WEBHOOK_HEADERS.timestamp]: String(timestampMs),
          [WEBHOOK_HEADERS.signature]: signWebhook(this.options.secret, timestampMs, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      return answer(response.status, (await response.text()).slice(0, RESPONSE_BYTES_MAX));
    } catch (error) {
      // The request may have reached the receiver before the failure: never a refusal.
      return { type: 'unknown', reason: `webhook call failed: ${(error as Error).name}: ${(error as Error).message}` };
    }
  }
}
