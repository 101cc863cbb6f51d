import { KAFKA_TRANSACTION_RETRY, type KafkaRetry } from '@tributary/kafka-client';
import type { Offsets, Transaction } from 'kafkajs';
import { sleep as wait } from './support';

/**
 * `transaction.sendOffsets`, sent again after an answer kafkajs marks retriable. kafkajs retries the
 * AddPartitionsToTxn of a send itself, but not the AddOffsetsToTxn of sendOffsets (nor a coordinator not
 * found yet): a transaction begun while the coordinator still writes the last one's markers is told
 * CONCURRENT_TRANSACTIONS, and the batch would fail and be processed again from the start. Both requests
 * may be sent again: adding the offsets to a transaction twice, or committing them twice, is one addition.
 * The waits are the transactional producer's own (20 ms, doubling); past its retries the error is thrown.
 */
export async function sendOffsetsRetrying(
  transaction: Pick<Transaction, 'sendOffsets'>,
  offsets: Offsets & { consumerGroupId: string },
  retry: KafkaRetry = KAFKA_TRANSACTION_RETRY,
  sleep: (ms: number) => Promise<void> = wait,
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await transaction.sendOffsets(offsets);
      return;
    } catch (error) {
      if (!isRetriable(error) || attempt >= retry.retries) throw error;
      await sleep(Math.min(retry.maxRetryTime, retry.initialRetryTime * 2 ** attempt));
    }
  }
}

function isRetriable(error: unknown): boolean {
  return error instanceof Error && (error as { retriable?: unknown }).retriable === true;
}
