export {
  catalogFor,
  TOPICS,
  CONSUMER_GROUPS,
  topicCatalog,
  deadLetterTopicSpec,
  deadLetterTopicName,
  topicPrefix,
  type TopicSpec,
  type TopicRole,
} from './topics';
export * from './schemas';
export {
  CE_HEADERS,
  CONTENT_TYPE_AVRO,
  ceTypeOf,
  toRecord,
  fromRecord,
  envelopeHeaders,
  type Envelope,
  type OutboundRecord,
  type PublishOptions,
  type DecodedRecord,
} from './envelope';
export { schemaCatalogEntries, type SchemaCatalogEntry } from './schema-catalog';
