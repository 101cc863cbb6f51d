import type { Admin, Kafka } from 'kafkajs';
import { createConsumer, KAFKA_RETRY_DEFAULT } from '@tributary/kafka-client';
import { DeadLetterTally } from './dead-letters';
import { toInboundRecord, type InboundRecord } from './inbound-batch';

/** DLQ topics have one partition (libs/contracts deadLetterTopicSpec); dead letters and markers both live there. */
export const DLQ_PARTITION = 0;

export interface PartitionReadOptions {
  readonly topic: string;
  readonly partition: number;
  /** First offset to read. */
  readonly from: string;
  /** A consumer group no one else uses; nothing is committed under it. */
  readonly groupId: string;
  readonly timeoutMs: number;
  /** Stop after this many records (the read resumes from `end` next time). */
  readonly recordsMax?: number;
}

export interface PartitionRead {
  readonly records: InboundRecord[];
  /** The offset after the last one covered: read from here next time. */
  readonly end: string;
  /** The partition's end offset when the read began. */
  readonly endOffset: string;
}

/**
 * Reads the committed records of one partition from `from` up to its end offset as it was when the read
 * began (aborted records and transaction markers are skipped), with a throwaway consumer that commits
 * nothing. Bounded in time: a read that does not reach the end in `timeoutMs` fails, naming the topic.
 */
export async function readPartition(kafka: Kafka, admin: Admin, options: PartitionReadOptions): Promise<PartitionRead> {
  const { topic, partition } = options;
  const offsets = await admin.fetchTopicOffsets(topic);
  const high = offsets.find((entry) => entry.partition === partition);
  if (high === undefined) throw new Error(`${topic} has no partition ${partition}`);
  const endOffset = BigInt(high.high);
  const from = BigInt(options.from) > BigInt(high.low) ? BigInt(options.from) : BigInt(high.low);
  const recordsMax = options.recordsMax ?? Number.POSITIVE_INFINITY;
  if (from >= endOffset)
    return { records: [], end: (from > endOffset ? from : endOffset).toString(), endOffset: endOffset.toString() };

  const records: InboundRecord[] = [];
  let reached = from;
  // A throwaway member reading to a known end: a short wait and session (it leaves the group at once when
  // done, or is dropped quickly when it dies), and few retries, since the read is bounded in time anyway.
  const consumer = createConsumer(kafka, {
    groupId: options.groupId,
    maxWaitTimeMs: 200,
    sessionTimeoutMs: 10_000,
    retry: { ...KAFKA_RETRY_DEFAULT, retries: 2 },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    const done = new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `reading ${topic}[${partition}] from ${from} to ${endOffset}: reached ${reached} within ${options.timeoutMs} ms`,
            ),
          ),
        options.timeoutMs,
      );
      const settle = () => {
        if (reached >= endOffset || records.length >= recordsMax) resolve();
      };
      // Batches that held only transaction markers or aborted records reach no handler; this event says how far they went.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic !== topic || payload.partition !== partition) return;
        const last = BigInt(payload.lastOffset) + 1n;
        if (last > reached && records.length < recordsMax) reached = last > endOffset ? endOffset : last;
        settle();
      });
      void consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch }) => {
          if (batch.partition !== partition) return;
          for (const message of batch.messages) {
            const offset = BigInt(message.offset);
            if (offset < reached || offset >= endOffset || records.length >= recordsMax) continue;
            records.push(toInboundRecord(topic, partition, message));
            reached = offset + 1n;
          }
          settle();
        },
      });
    });
    consumer.seek({ topic, partition, offset: from.toString() });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  return { records, end: reached.toString(), endOffset: endOffset.toString() };
}

export interface DlqRead {
  readonly topic: string;
  readonly records: InboundRecord[];
  readonly tally: DeadLetterTally;
  readonly endOffset: string;
}

/** The whole DLQ partition of a topic, read and tallied: its dead letters, markers and depth. */
export async function readDeadLetterTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  groupId: string,
  timeoutMs: number,
): Promise<DlqRead> {
  const read = await readPartition(kafka, admin, { topic, partition: DLQ_PARTITION, from: '0', groupId, timeoutMs });
  const tally = new DeadLetterTally();
  for (const record of read.records) tally.add(record);
  tally.advanceTo(read.end);
  return { topic, records: read.records, tally, endOffset: read.endOffset };
}
