import { RECORD_BATCH_OVERHEAD_BYTES } from '@tributary/contracts';

/** One record to send: where it goes and its size inside a batch (recordBytes of libs/contracts). */
export interface PlannedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly bytes: number;
}

export interface SendLimits {
  /** The topic's max.message.bytes: what one partition's record batch of a send may hold. */
  topicBytesMax(topic: string): number;
  /** What the record batches of one produce request may hold together. */
  readonly requestBytesMax: number;
}

/**
 * Splits records, in their order, into consecutive sends (each a [start, end) range) so that in every
 * send each partition's record batch stays within its topic's limit and all batches together within the
 * request limit. kafkajs puts all records of one partition in a send into one batch, and the broker
 * refuses a batch larger than the topic's max.message.bytes whole, failing the send for every record in
 * it. A record too large to go even alone is the caller's to refuse first; here it gets a send of its own.
 * Consecutive ranges sent one after the other keep each partition's order.
 */
export function planSends(records: readonly PlannedRecord[], limits: SendLimits): Array<readonly [number, number]> {
  const sends: Array<readonly [number, number]> = [];
  let start = 0;
  let requestBytes = 0;
  let batches = new Map<string, number>();
  records.forEach((record, index) => {
    const slot = `${record.partition}:${record.topic}`;
    const batch = batches.get(slot);
    const batchAfter = (batch ?? RECORD_BATCH_OVERHEAD_BYTES) + record.bytes;
    const requestAfter = requestBytes + (batch === undefined ? RECORD_BATCH_OVERHEAD_BYTES : 0) + record.bytes;
    if (index > start && (batchAfter > limits.topicBytesMax(record.topic) || requestAfter > limits.requestBytesMax)) {
      sends.push([start, index]);
      start = index;
      batches = new Map();
      requestBytes = RECORD_BATCH_OVERHEAD_BYTES + record.bytes;
      batches.set(slot, requestBytes);
      return;
    }
    batches.set(slot, batchAfter);
    requestBytes = requestAfter;
  });
  if (records.length > start) sends.push([start, records.length]);
  return sends;
}
