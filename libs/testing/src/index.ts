export { testBrokers, testClientOptions, testKafka, uniqueName, withAdmin, readTopic, headersOf } from './kafka';
export { testDatabaseUrl, createTestDatabase, type TestDatabase } from './database';
export { eventually } from './eventually';
export { FROM_SOURCE_NODE_ARGS, startServiceProcess, type ServiceProcess } from './service-process';
export { startTestStack, TEST_REGISTRY_NAME, TEST_REGISTRY_PORT_DEFAULT, type TestStack } from './stack';
export {
  startTestCluster,
  testClusterPort,
  TEST_CLUSTER_NAME,
  TEST_KAFKA_CLUSTER_PORT_DEFAULT,
  type TestCluster,
} from './cluster';
export { unitSpecKafkaEnv } from './unit-env';
export { testKafkaName, principalEnv, kafkaAs, kafkaRefusal, tryProduce } from './principals';
export { getFrom, requestFrom, type HttpReply } from './http-from';
export { fixedSchemaIds, testRegistrySchemaIds } from './schema-ids';
