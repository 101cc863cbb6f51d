export {
  TributaryProducer,
  BATCH_EVENTS_MAX,
  type TributaryProducerOptions,
  type EventToPublish,
} from './tributary-producer';
export {
  RecordSender,
  RecordTooLargeError,
  REQUEST_BYTES_MAX_DEFAULT,
  assertRecordFits,
  outboundRecordBytes,
  type RecordSenderOptions,
  type PublishResult,
} from './record-sender';
export { planSends, type PlannedRecord, type SendLimits } from './send-plan';
