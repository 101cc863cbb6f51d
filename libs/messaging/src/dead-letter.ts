import type { Producer } from 'kafkajs';
import {
  DEAD_LETTER_RECORD_BYTES_MAX,
  deadLetterTopicName,
  RECORD_BATCH_OVERHEAD_BYTES,
  recordBytes,
  type RecordParts,
} from '@tributary/contracts';
import type { Rejection } from './inbound-batch';

/**
 * Headers on a dead-lettered record. The original headers are kept as they were; ours carry the reason
 * and where the record came from, so it can be inspected with the console consumer and replayed.
 */
export const DLQ_HEADERS = {
  reason: 'dlq_reason',
  errorClass: 'dlq_error_class',
  sourceTopic: 'dlq_source_topic',
  sourcePartition: 'dlq_source_partition',
  sourceOffset: 'dlq_source_offset',
  consumerGroup: 'dlq_consumer_group',
  failedAt: 'dlq_failed_at',
} as const;

const REASON_LENGTH_MAX = 1_024;

export function deadLetterMessage(groupId: string, rejection: Rejection, failedAt: Date) {
  const { record } = rejection;
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [DLQ_HEADERS.reason]: rejection.reason.slice(0, REASON_LENGTH_MAX),
      [DLQ_HEADERS.errorClass]: rejection.errorClass,
      [DLQ_HEADERS.sourceTopic]: record.topic,
      [DLQ_HEADERS.sourcePartition]: String(record.partition),
      [DLQ_HEADERS.sourceOffset]: record.offset,
      [DLQ_HEADERS.consumerGroup]: groupId,
      [DLQ_HEADERS.failedAt]: failedAt.toISOString(),
    },
  };
}

/**
 * Publishes rejections with the idempotent producer and returns only once Kafka acknowledged them all.
 * Dead letters that together would be a record batch larger than the DLQ topic takes go in several
 * sends, one after the other (each dead letter alone fits: the catalog's DLQ limit is any topic's plus room).
 */
export function deadLetterSink(producer: Pick<Producer, 'send'>, now: () => Date = () => new Date()) {
  return async (groupId: string, rejections: readonly Rejection[]): Promise<void> => {
    const failedAt = now();
    const messages = rejections.map((rejection) => deadLetterMessage(groupId, rejection, failedAt));
    for (const slice of batchesWithin(messages, DEAD_LETTER_RECORD_BYTES_MAX)) {
      await producer.send({ topic: deadLetterTopicName(groupId), acks: -1, messages: slice });
    }
  };
}

/** Consecutive slices whose record batch (recordBatchBytes, the size rule) stays within limitBytes; at least one message each. */
function batchesWithin<M extends RecordParts>(messages: readonly M[], limitBytes: number): M[][] {
  const slices: M[][] = [];
  let bytes = RECORD_BATCH_OVERHEAD_BYTES;
  for (const message of messages) {
    const size = recordBytes(message);
    const last = slices[slices.length - 1];
    if (last !== undefined && bytes + size <= limitBytes) {
      last.push(message);
      bytes += size;
    } else {
      slices.push([message]);
      bytes = RECORD_BATCH_OVERHEAD_BYTES + size;
    }
  }
  return slices;
}
