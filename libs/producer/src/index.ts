export {
  TributaryProducer,
  BATCH_EVENTS_MAX,
  type TributaryProducerOptions,
  type EventToPublish,
  type PublishResult,
} from './tributary-producer';
