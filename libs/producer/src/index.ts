export { TributaryProducer, BATCH_EVENTS_MAX, type TributaryProducerOptions, type EventToPublish } from './tributary-producer';
export { RecordSender, type RecordSenderOptions, type PublishResult } from './record-sender';
