import { dropKafkajsNegativeTimerWarning } from './kafkajs-timer-warning';

// Every Tributary process imports this package before it makes a kafkajs client (see the module).
dropKafkajsNegativeTimerWarning();

export { ConfigError } from './config-error';
export { projectRoot } from './project-root';
export { REDACTED, redactUrl, redactUrlsIn } from './redact';
export { parseEnv, brokerList, boundedInt, postgresUrl, kafkaName, httpHost, trustProxyHops } from './env';
export {
  databaseEnv,
  LOCAL_DATABASE_URL,
  localOperatorTokenFile,
  localReadCredentialFile,
  logLevels,
  exitOnStartupFailure,
  kafkaCredentialProblem,
  type DatabaseEnv,
} from './shared-env';
export {
  kafkaEnv,
  kafkaClientOptions,
  kafkaSecurityOptions,
  describeKafkaSecurity,
  localBrokerFiles,
  cacheDir,
  principalName,
  Secret,
  LOCAL_KAFKA_BROKERS,
  LOCAL_KAFKA_NAME,
  KAFKA_SECURITY_MODES,
  type KafkaEnv,
  type KafkaSecurity,
  type KafkaSecurityMode,
} from './kafka-security';
export { dropKafkajsNegativeTimerWarning, isKafkajsNegativeTimerWarning } from './kafkajs-timer-warning';
