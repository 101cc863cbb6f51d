import type { IHeaders, KafkaMessage } from 'kafkajs';
import { RecentTexts } from '@tributary/kafka-client';

/** One consumed Kafka record, as a handler sees it: bytes in, nothing decoded yet. */
export interface InboundRecord {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are int64; kept as a decimal string as kafkajs gives them, compared as bigint. */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestampMs: number;
}

export interface Rejection {
  readonly record: InboundRecord;
  readonly reason: string;
  readonly errorClass: string;
}

/** Sends rejected records to the dead-letter topic; the consumer awaits it before any offset moves past them. */
export type RejectionSink = (groupId: string, rejections: readonly Rejection[]) => Promise<void>;

/**
 * A bounded slice of one partition's records, handed to an @EventPattern handler. A handler either
 * applies a record or rejects it with a reason; a rejected record goes to the DLQ before the offset
 * moves past it, so nothing is dropped silently. Throwing from a handler means "try again later"
 * (a database that is down), never "skip this record".
 */
export class InboundBatch {
  private readonly rejections: Rejection[] = [];
  private flushed = false;

  constructor(
    readonly groupId: string,
    readonly topic: string,
    readonly partition: number,
    readonly records: readonly InboundRecord[],
    private readonly sink: RejectionSink,
    /**
     * The offset past the transaction markers (or aborted records) that follow the last record, when the
     * fetch ended in them (transaction-markers.ts): the handler's transaction then stores a position
     * past them too, rather than a second write after it.
     */
    private readonly endOffset?: bigint,
  ) {
    if (records.length === 0) throw new Error('an inbound batch holds at least one record');
    const afterLast = BigInt(records[records.length - 1]!.offset) + 1n;
    if (endOffset !== undefined && endOffset < afterLast)
      throw new Error(
        `an inbound batch's end offset ${endOffset} is before the offset after its last record (${afterLast})`,
      );
  }

  /** The offset a consumer resumes from once this whole batch is done: past its last record, and past the markers after it. */
  get nextOffset(): string {
    if (this.endOffset !== undefined) return this.endOffset.toString();
    const last = this.records[this.records.length - 1]!;
    return (BigInt(last.offset) + 1n).toString();
  }

  reject(record: InboundRecord, reason: string, error?: unknown): void {
    if (this.flushed) throw new Error('cannot reject a record after the batch flushed its rejections');
    const errorClass = error instanceof Error ? error.constructor.name : 'Rejected';
    this.rejections.push({ record, reason, errorClass });
  }

  get rejected(): readonly Rejection[] {
    return this.rejections;
  }

  /**
   * Publishes the rejections to the DLQ and waits for Kafka's acknowledgement. A handler that commits
   * offsets in its own database transaction calls this before that commit; the consumer calls it again
   * afterwards, which is then a no-op.
   */
  async flushRejections(): Promise<void> {
    if (this.flushed) return;
    if (this.rejections.length > 0) await this.sink(this.groupId, this.rejections);
    this.flushed = true;
  }
}

export function toInboundRecord(topic: string, partition: number, message: KafkaMessage): InboundRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: headersToStrings(message.headers),
    timestampMs: Number(message.timestamp),
  };
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (headers === undefined) return result;
  // Keys, not entries: one array per record instead of one per header.
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    // A header may repeat; the last value wins here, as in Kafka's own Headers.lastHeader().
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined)
      result[name] = Buffer.isBuffer(last) ? lastHeaderValues.decode(name, last, 0, last.length) : String(last);
  }
  return result;
}

/**
 * The last value read per header name. Most headers of a topic's records are alike (ce_type,
 * ce_source, ce_dataschema, content-type...), so a value equal to the last one is that string again
 * (ascii-text.ts) rather than a fresh one per record. Bounded: names beyond the first few, and long or
 * non-ASCII values, are decoded every time.
 */
const lastHeaderValues = new RecentTexts<string>(64, 256);
