import type { FundsDeposited, FundsReversed } from '@tributary/contracts';
import type { PayoutPublisher } from '../saga/payout-publisher';

/**
 * What the treasury published: the event as written (amount as a decimal string) and where it landed.
 * The same answer comes back for a retry with the same eventId: the ledger deduplicates on it, so a
 * second copy on the topic changes nothing.
 */
export interface FundingPublished {
  readonly type: 'FundsDeposited' | 'FundsReversed';
  readonly event: Record<string, unknown>;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

const wire = (data: object): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(data).map(([key, value]) => [
      key,
      typeof value === 'bigint'
        ? key === 'occurredAt'
          ? new Date(Number(value)).toISOString()
          : String(value)
        : value,
    ]),
  );

/** Publishes one funding event to tributary.funding, keyed by its producer; resolves once Kafka acknowledged it. */
export async function publishFunding(
  publisher: PayoutPublisher,
  type: 'FundsDeposited',
  data: FundsDeposited,
): Promise<FundingPublished>;
export async function publishFunding(
  publisher: PayoutPublisher,
  type: 'FundsReversed',
  data: FundsReversed,
): Promise<FundingPublished>;
export async function publishFunding(
  publisher: PayoutPublisher,
  type: 'FundsDeposited' | 'FundsReversed',
  data: FundsDeposited | FundsReversed,
): Promise<FundingPublished> {
  const [result] = await publisher.publish([{ type, data }]);
  if (!result) throw new Error(`${type}: the producer returned no result`);
  return { type, event: wire(data), topic: result.topic, partition: result.partition, offset: result.offset };
}
