import { installRecordEncoder } from './kafkajs-record-encoder';

// Every kafkajs producer of a process that loads this library encodes records with the exactly sized
// replacement (it writes kafkajs's bytes; see kafkajs-record-encoder.ts): it must be in place before a
// producer's first send, which is when kafkajs loads its produce request.
installRecordEncoder();

export { InboundBatch, type InboundRecord, type Rejection, type RejectionSink } from './inbound-batch';
export { DLQ_HEADERS } from './dead-letter';
export { ensureTopics, ensureTopicCatalog, topicConfig, topicsEnv } from './topics-admin';
export {
  KafkaBatchTransport,
  KafkaBatchContext,
  KAFKA_BATCH_TRANSPORT,
  type KafkaBatchTransportOptions,
} from './kafka-batch.transport';
export { PostgresOffsetStore, CreateConsumerOffsets1764000000000, type StoredOffset } from './offset-store';
export { consumerEnv, type ConsumerEnv, transportOptionsFrom } from './consumer-env';
export {
  TransactionalProcessor,
  type TransactionalProcessorOptions,
  type TransactionalHandler,
  type OutputRecord,
  type ProcessedBatch,
  type ProcessContext,
} from './transactional-processor';
export { installRecordEncoder, KAFKAJS_VERSION_PINNED } from './kafkajs-record-encoder';
