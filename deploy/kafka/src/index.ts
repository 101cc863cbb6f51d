// @tributary/kafka-provisioner: a real Apache Kafka (one node or a local cluster) from Maven Central, no Docker.
export { KAFKA_VERSION } from './version';
export { ProvisionError, formatProvisionError } from './errors';
export { ensureKafkaInstalled } from './install';
export { startKafka, stopKafka, kafkaStatus } from './broker';
export type { RunningKafka, StartKafkaOptions, KafkaStatus, KafkaNode } from './broker';
export { describeQuorum, clusterNodes } from './cluster';
export type { QuorumStatus } from './cluster';
export { runKafkaCli, KAFKA_TOOL_CLASSES } from './tools';
export { brokerClientEnv, brokerSecurityMode } from './broker';
export {
  applyServiceAcls,
  addProducer,
  addAnalytics,
  rotatePassword,
  revokePrincipal,
  listPrincipals,
  withOperatorAdmin,
} from './principals';
export type { IssuedCredential } from './principals';
export { credentialFiles } from './credentials';
// Process and set-up helpers other provisioners (deploy/registry) run their own Java processes with.
export { runCommand, isNotFound, isProcessAlive, processCommandLine, sleep, tailFile } from './process';
export type { CommandResult } from './process';
export { firstMavenError, parseJavaMajor } from './install';
export type { Log } from './install';
export { assertPortFree } from './port';
export { stopProcess } from './broker';
export { nameProblem } from './validation';
