import type { PayoutsConfig } from '../payouts.config';
import { LedgerRail } from './ledger-rail';
import type { PayoutRail } from './rail';
import { WebhookRail } from './webhook-rail';

/**
 * The rails this instance can drive. The ledger rail is always there; the webhook rail when it is
 * configured. A payout keeps the rail chosen when its epoch closed (PAYOUTS_RAIL then).
 */
export function railsOf(config: PayoutsConfig): Map<string, PayoutRail> {
  const rails = new Map<string, PayoutRail>([['ledger', new LedgerRail()]]);
  if (config.PAYOUTS_WEBHOOK_URL && config.PAYOUTS_WEBHOOK_SECRET) {
    rails.set(
      'webhook',
      new WebhookRail({
        url: config.PAYOUTS_WEBHOOK_URL,
        statusUrl: config.PAYOUTS_WEBHOOK_STATUS_URL,
        secret: config.PAYOUTS_WEBHOOK_SECRET,
        timeoutMs: config.PAYOUTS_WEBHOOK_TIMEOUT_MS,
      }),
    );
  }
  return rails;
}
