// kafkajs clients made one way, with nothing of Nest or TypeORM and with any kafkajs 2.x: the producer
// client imports it, as does libs/messaging. Importing it changes nothing in kafkajs.
export {
  createConsumer,
  createIdempotentProducer,
  createKafkaClient,
  CONNECTION_TIMEOUT_MS_DEFAULT,
  CONSUMER_TUNING_DEFAULT,
  KAFKA_RETRY_DEFAULT,
  KAFKA_TRANSACTION_RETRY,
  REQUEST_TIMEOUT_MS_DEFAULT,
  type ConsumerOptions,
  type ConsumerTuning,
  type KafkaClientOptions,
  type KafkaRetry,
  type ProducerRole,
} from './kafka-factory';
export { FreshAfterFailure } from './fresh-producer';
export { BOUNDED_RETRIES_WARNING, kafkaLogCreator } from './kafka-log';
export { keyPartition, murmur2 } from './key-partition';
export { RecentTexts } from './ascii-text';
