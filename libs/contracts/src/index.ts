export { catalogFor, TOPICS, CONSUMER_GROUPS, topicCatalog, deadLetterTopicSpec, deadLetterTopicName, topicPrefix, type TopicSpec, type TopicRole } from './topics';
