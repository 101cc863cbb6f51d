import { kafkaClientOptions, type KafkaEnv } from '@tributary/config';
import { TributaryProducer, type EventToPublish, type PublishResult } from '@tributary/producer';

/** The one writer of tributary.payouts: idempotent producer, acks=all; event ids make re-publishing harmless. */
export interface PayoutPublisher {
  publish(events: readonly EventToPublish[]): Promise<PublishResult[]>;
  close(): Promise<void>;
}

export async function connectPublisher(kafka: KafkaEnv, topicPrefix: string): Promise<PayoutPublisher> {
  const producer = await TributaryProducer.connect({
    ...kafkaClientOptions(kafka),
    source: 'urn:tributary:payouts',
    ...(topicPrefix ? { topicPrefix } : {}),
  });
  return {
    // Not transactional: each event is independently harmless to repeat, and the saga row records how far it got.
    publish: (events) => producer.publishBatch(events),
    close: () => producer.disconnect(),
  };
}
