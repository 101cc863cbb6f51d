import {
  toRecord,
  type EventData,
  type EventInput,
  type EventType,
  type PublishOptions,
  type SchemaIdBook,
} from '@tributary/contracts';
import { RecordSender, type PublishResult, type RecordSenderOptions } from './record-sender';

export interface TributaryProducerOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** ce_source of everything this producer publishes: who is speaking. */
  readonly source: string;
  readonly topicPrefix?: string;
  /** Set it to make publishBatch all-or-nothing (a Kafka transaction); one id per producer instance. */
  readonly transactionalId?: string;
  /** How long a send may wait for the broker's acknowledgement before it fails. */
  readonly ackTimeoutMs?: number;
  /** TLS towards the brokers (kafkajs's `ssl` option), e.g. `{ ca: [caPem] }`. */
  readonly ssl?: RecordSenderOptions['ssl'];
  /** This producer's Kafka principal (kafkajs's `sasl` option), e.g. `{ mechanism: 'scram-sha-512', username, password }`. */
  readonly sasl?: RecordSenderOptions['sasl'];
  /** What one produce request may hold (default 1 MiB); a larger batch is sent in several requests. */
  readonly requestBytesMax?: number;
  /**
   * The schema registry's ids: given, every record is Confluent-framed with them; null, every record is
   * raw Avro; left out, the process's installed ids decide (installSchemaIds, libs/contracts).
   */
  readonly schemaIds?: SchemaIdBook | null;
}

export interface EventToPublish<T extends EventType = EventType> {
  readonly type: T;
  /** The event; fields the latest schema gives a default may be left out (EventInput). */
  readonly data: EventData<T> | EventInput<T>;
  readonly traceparent?: string;
  readonly time?: Date;
}

export const BATCH_EVENTS_MAX = 1_000;
const ACK_TIMEOUT_MS_DEFAULT = 30_000;

/**
 * The typed producer client: the library a producer outside this repo uses to publish Tributary
 * events straight to Kafka. Every event is validated and encoded before anything is sent; sends use
 * the idempotent producer with acks=all, so a result means the event is durable.
 */
export class TributaryProducer {
  private constructor(
    private readonly sender: RecordSender,
    private readonly options: TributaryProducerOptions,
  ) {}

  static async connect(options: TributaryProducerOptions): Promise<TributaryProducer> {
    const sender = await RecordSender.connect({
      brokers: options.brokers,
      clientId: options.clientId,
      ackTimeoutMs: options.ackTimeoutMs ?? ACK_TIMEOUT_MS_DEFAULT,
      ...(options.transactionalId ? { transactionalId: options.transactionalId } : {}),
      ...(options.ssl ? { ssl: options.ssl } : {}),
      ...(options.sasl ? { sasl: options.sasl } : {}),
      ...(options.requestBytesMax ? { requestBytesMax: options.requestBytesMax } : {}),
    });
    return new TributaryProducer(sender, options);
  }

  /** Validates, encodes and publishes one event; resolves once Kafka acknowledged it. */
  async publish<T extends EventType>(
    type: T,
    data: EventData<T> | EventInput<T>,
    extra: Omit<EventToPublish<T>, 'type' | 'data'> = {},
  ): Promise<PublishResult> {
    const [result] = await this.publishBatch([{ type, data, ...extra }]);
    return result!;
  }

  /**
   * Publishes up to BATCH_EVENTS_MAX events. All are validated before any is sent: one invalid event
   * refuses the whole batch. With a transactionalId the batch is atomic (read_committed consumers see
   * all of it or none); without one, events may land in part if the broker fails midway. An event
   * whose Kafka record is larger than its topic takes (max.message.bytes, 1 MiB) refuses the batch
   * before anything is sent, with a RecordTooLargeError naming the event, its size and the limit; a
   * batch larger than one produce request goes in several, in order (and in one transaction).
   */
  async publishBatch(events: readonly EventToPublish[]): Promise<PublishResult[]> {
    if (events.length > BATCH_EVENTS_MAX)
      throw new RangeError(`a batch holds at most ${BATCH_EVENTS_MAX} events, got ${events.length}`);
    const records = events.map((event) => toRecord(event.type, event.data, this.publishOptions(event)));
    return this.sender.send(records);
  }

  async disconnect(): Promise<void> {
    await this.sender.disconnect();
  }

  private publishOptions(extra: { traceparent?: string; time?: Date }): PublishOptions {
    return {
      source: this.options.source,
      ...(this.options.topicPrefix ? { topicPrefix: this.options.topicPrefix } : {}),
      ...(extra.traceparent ? { traceparent: extra.traceparent } : {}),
      ...(extra.time ? { time: extra.time } : {}),
      ...(this.options.schemaIds !== undefined ? { schemaIds: this.options.schemaIds } : {}),
    };
  }
}
