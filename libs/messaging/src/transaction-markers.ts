/**
 * Offsets no handler sees. Transactional producers (the gateway's batches, the attribution service)
 * leave a commit or abort marker after each transaction, and a read_committed consumer skips the
 * records of aborted transactions; kafkajs hands neither to a handler but counts both in a fetch's last
 * offset. A consumer that moved its position only by the records it applied would stay one offset
 * behind a final marker forever: in Kafka's lag tools, to anyone comparing it with the partition's end,
 * and to a rebuild waiting to reach the live projector's position. Every consumer here moves past them
 * with these two functions, the live transport and the rebuild alike.
 */
import type { Batch, Consumer } from 'kafkajs';
import { nextOffsetAfter } from './offsets';

/**
 * Calls `pass` after each fetch that reached no handler (markers and aborted records only) with the
 * offset past it. From kafkajs's events, which do not wait: `pass` must not throw, and keeps track of
 * any write it starts.
 */
export function onMarkerOnlyFetch(
  consumer: Consumer,
  pass: (topic: string, partition: number, nextOffset: bigint) => void,
): void {
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize === 0 && payload.lastOffset !== null)
      pass(payload.topic, payload.partition, nextOffsetAfter(payload.lastOffset));
  });
}

/**
 * The offset past a fetch whose last offsets are markers or aborted records after its last record (a
 * transaction's commit marker, usually), or null when its last record ends it or it holds no record.
 */
export function skipPastMarkers(batch: Pick<Batch, 'messages' | 'lastOffset'>): bigint | null {
  const lastMessage = batch.messages[batch.messages.length - 1];
  if (lastMessage === undefined) return null;
  const end = nextOffsetAfter(batch.lastOffset());
  return end > nextOffsetAfter(lastMessage.offset) ? end : null;
}
