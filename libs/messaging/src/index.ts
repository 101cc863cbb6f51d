// kafkajs plumbing for the services: inbound batches, dead letters, topic admin, the transactional
// processor, and the Nest transport (nest/). Importing it changes nothing in kafkajs: the wire fast paths
// are @tributary/kafka-wire's, installed by a service's main; the offset store is @tributary/persistence's.
export { InboundBatch, toInboundRecord, type InboundRecord, type Rejection, type RejectionSink } from './inbound-batch';
export { chunk } from './support';
export { keyPartition, murmur2, kafkaLogCreator, BOUNDED_RETRIES_WARNING } from '@tributary/kafka-client';
export { DLQ_HEADERS } from './dead-letter';
export { applyIsolatingFaults, isRecordFault, RecordFault, type SliceOutcome } from './record-faults';
export { describe as describeError } from './support';
export { contentHashOf } from './content-hash';
export { installWireFraming, registrySchemaIds, type EventWriter, type SchemaIdSource } from './wire-framing';
export {
  DeadLetterTally,
  REDRIVE_HEADERS,
  RedriveRefused,
  classifyDlqRecord,
  positionText,
  redriveMarkerMessage,
  redriveMessage,
  summarizeDeadLetter,
  toJsonSafe,
  type DeadLetterSummary,
  type DlqRecordKind,
  type RecordPosition,
  type RedriveMark,
  type RedriveMessage,
} from './dead-letters';
export {
  DLQ_PARTITION,
  readDeadLetterTopic,
  readPartition,
  type DlqRead,
  type PartitionRead,
  type PartitionReadOptions,
} from './dlq-reader';
export { ensureTopics, ensureTopicCatalog, topicConfig, topicsEnv } from './topics-admin';
export {
  HandlerErrorsAsThrown,
  KafkaBatchTransport,
  KafkaBatchContext,
  KAFKA_BATCH_TRANSPORT,
  type KafkaBatchTransportOptions,
} from './nest/kafka-batch.transport';
export { consumerEnv, type ConsumerDefaults, type ConsumerEnv, transportOptionsFrom } from './nest/consumer-env';
export {
  TransactionalProcessor,
  type TransactionalProcessorOptions,
  type TransactionalHandler,
  type OutputRecord,
  type ProcessedBatch,
  type ProcessContext,
} from './transactional-processor';
export { skipPastMarkers, onMarkerOnlyFetch } from './transaction-markers';
export { nextOffsetAfter, partitionKey, type OffsetStore, type StoredOffset } from './offsets';
