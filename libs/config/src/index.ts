export { ConfigError } from './config-error';
export { parseEnv, brokerList, boundedInt, postgresUrl, kafkaName } from './env';
export { kafkaEnv, databaseEnv, type KafkaEnv, type DatabaseEnv } from './shared-env';
