import { installKafkajsEncoders } from './kafkajs-encoders';
import { installKafkajsRecordDecoder } from './kafkajs-record-decoder';

// Every kafkajs producer of a process that loads this library encodes its produce requests with the
// exactly sized replacement (it writes kafkajs's bytes; see kafkajs-encoders.ts): it must be in place
// before a producer's first send, which is when kafkajs loads its produce request. Likewise every
// consumer decodes fetched records with the leaner replacement (kafkajs's output; see
// kafkajs-record-decoder.ts), in place before a consumer's first fetch.
installKafkajsEncoders();
installKafkajsRecordDecoder();

export { InboundBatch, toInboundRecord, type InboundRecord, type Rejection, type RejectionSink } from './inbound-batch';
export { chunk } from './support';
export { keyPartition, murmur2 } from './key-partition';
export { DLQ_HEADERS } from './dead-letter';
export { applyIsolatingFaults, isRecordFault, RecordFault, type SliceOutcome } from './record-faults';
export { describe as describeError } from './support';
export { contentHashOf } from './content-hash';
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
export { DLQ_PARTITION, readDeadLetterTopic, readPartition, type DlqRead, type PartitionRead, type PartitionReadOptions } from './dlq-reader';
export { ensureTopics, ensureTopicCatalog, topicConfig, topicsEnv } from './topics-admin';
export {
  HandlerErrorsAsThrown,
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
export { installKafkajsEncoders, KAFKAJS_VERSION_PINNED } from './kafkajs-encoders';
export { installKafkajsRecordDecoder } from './kafkajs-record-decoder';
export { BOUNDED_RETRIES_WARNING, kafkaLogCreator } from './kafka-log';
