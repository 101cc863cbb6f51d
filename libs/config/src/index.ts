export { ConfigError } from './config-error';
export { parseEnv, brokerList, boundedInt, postgresUrl, kafkaName } from './env';
export { kafkaEnv, databaseEnv, logLevels, type KafkaEnv, type DatabaseEnv } from './shared-env';
