export { ConfigError } from './config-error';
export { parseEnv, brokerList, boundedInt, postgresUrl, kafkaName, httpHost } from './env';
export { kafkaEnv, databaseEnv, logLevels, exitOnStartupFailure, type KafkaEnv, type DatabaseEnv } from './shared-env';
