import * as fs from 'node:fs';
import { localBrokerFiles } from '@tributary/config';
import { OPERATOR_PRINCIPAL } from '@tributary/contracts';
import { applyServiceAcls, startKafka, stopKafka, type RunningKafka } from '@tributary/kafka-provisioner';

/**
 * A three-node secured cluster of a test file's own, beside the suite's single test broker: started
 * fresh (a previous run's data is deleted), on TEST_KAFKA_CLUSTER_PORT so it never meets the developer's
 * broker on 9092 or the suite's on 19092. Jest runs integration files one at a time, so files that start
 * a cluster take turns on the same ports; each stops its cluster when it ends. The default keeps every
 * port below the kernel's ephemeral range, so a node killed by a test can always bind its port again.
 */
export const TEST_KAFKA_CLUSTER_PORT_DEFAULT = 19300;
export const TEST_CLUSTER_NODES = 3;
const READY_TIMEOUT_MS = 240_000;

export interface TestCluster {
  readonly name: string;
  readonly port: number;
  readonly kafka: RunningKafka;
  /** The operator's environment on the cluster (KAFKA_* with every broker, KAFKA_REPLICATION_FACTOR=3). */
  readonly env: Record<string, string>;
  /** Starts whichever nodes are not running (after a kill) and waits until every node is back in the cluster. */
  restartMissingNodes(): Promise<RunningKafka>;
  stop(): Promise<void>;
}

export function testClusterPort(): number {
  return Number(process.env.TEST_KAFKA_CLUSTER_PORT ?? TEST_KAFKA_CLUSTER_PORT_DEFAULT);
}

export async function startTestCluster(
  name: string,
  log: (line: string) => void = () => undefined,
): Promise<TestCluster> {
  const port = testClusterPort();
  await stopKafka(name);
  fs.rmSync(localBrokerFiles(name).dataDir, { recursive: true, force: true });
  // Three JVMs starting at once on a busy 2-core machine were seen to take two minutes.
  const start = () =>
    startKafka({
      port,
      name,
      brokers: TEST_CLUSTER_NODES,
      security: 'sasl_ssl',
      log,
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
  const kafka = await start();
  await applyServiceAcls(name);
  const env = {
    ...kafka.clientEnv(OPERATOR_PRINCIPAL),
    KAFKA_COMMAND_CONFIG: localBrokerFiles(name).clientProperties(OPERATOR_PRINCIPAL),
  };
  return { name, port, kafka, env, restartMissingNodes: start, stop: () => stopKafka(name) };
}
