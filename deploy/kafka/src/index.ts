// @tributary/kafka-provisioner: a real single-node Apache Kafka from Maven Central, no Docker.
export { KAFKA_VERSION } from './version';
export { ProvisionError, formatProvisionError } from './errors';
export { ensureKafkaInstalled } from './install';
export { startKafka, stopKafka, kafkaStatus } from './broker';
export type { RunningKafka, StartKafkaOptions, KafkaStatus } from './broker';
export { runKafkaCli, KAFKA_TOOL_CLASSES } from './tools';
export { brokerClientEnv, brokerSecurityMode } from './broker';
export { applyServiceAcls, addProducer, addAnalytics, rotatePassword, revokePrincipal, listPrincipals, withOperatorAdmin } from './principals';
export type { IssuedCredential } from './principals';
export { credentialFiles } from './credentials';
