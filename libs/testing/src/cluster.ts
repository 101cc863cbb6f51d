import * as fs from 'node:fs';
import * as path from 'node:path';
import { localBrokerFiles } from '@tributary/config';
import { OPERATOR_PRINCIPAL } from '@tributary/contracts';
import { applyServiceAcls, startKafka, stopKafka, type RunningKafka } from '@tributary/kafka-provisioner';

/**
 * One secured three-node cluster for every file of a jest run that needs one, beside the suite's
 * single test broker, on TEST_KAFKA_CLUSTER_PORT so it never meets the developer's broker on 9092 or
 * the suite's on 19092. Three JVMs take a minute or more to start on a busy small machine, so the
 * first file that asks starts it fresh (a previous run's data is deleted) and marks it with the run's
 * id (TRIBUTARY_TEST_RUN_ID, set by global setup); later files of the same run find it running and
 * adopt it, restarting any node a file left dead; global teardown stops it. Jest runs integration
 * files one at a time, so they take turns on it; a file leaves every node running and in sync. The
 * default port keeps every port below the kernel's ephemeral range, so a node killed by a test can
 * always bind its port again.
 */
export const TEST_KAFKA_CLUSTER_PORT_DEFAULT = 19300;
export const TEST_CLUSTER_NAME = 'test-cluster';
export const TEST_CLUSTER_NODES = 3;
const READY_TIMEOUT_MS = 240_000;
/** In the cluster's data dir: the id of the jest run that started it. */
const RUN_MARKER_FILE = 'jest-run-id';

export interface TestCluster {
  readonly name: string;
  readonly port: number;
  readonly kafka: RunningKafka;
  /** The operator's environment on the cluster (KAFKA_* with every broker, KAFKA_REPLICATION_FACTOR=3). */
  readonly env: Record<string, string>;
  /** Starts whichever nodes are not running (after a kill) and waits until every node is back in the cluster. */
  restartMissingNodes(): Promise<RunningKafka>;
}

export function testClusterPort(): number {
  return Number(process.env.TEST_KAFKA_CLUSTER_PORT ?? TEST_KAFKA_CLUSTER_PORT_DEFAULT);
}

const runMarker = () => path.join(localBrokerFiles(TEST_CLUSTER_NAME).dataDir, RUN_MARKER_FILE);

/** True when this jest run started the cluster (its data dir carries the run's id). */
function startedByThisRun(): boolean {
  const runId = process.env.TRIBUTARY_TEST_RUN_ID;
  if (runId === undefined) return false;
  try {
    return fs.readFileSync(runMarker(), 'utf8') === runId;
  } catch {
    return false;
  }
}

export async function startTestCluster(log: (line: string) => void = () => undefined): Promise<TestCluster> {
  const name = TEST_CLUSTER_NAME;
  const port = testClusterPort();
  const adopted = startedByThisRun();
  if (!adopted) {
    await stopKafka(name);
    fs.rmSync(localBrokerFiles(name).dataDir, { recursive: true, force: true });
  }
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
  if (!adopted) {
    await applyServiceAcls(name);
    if (process.env.TRIBUTARY_TEST_RUN_ID !== undefined)
      fs.writeFileSync(runMarker(), process.env.TRIBUTARY_TEST_RUN_ID);
  }
  const env = {
    ...kafka.clientEnv(OPERATOR_PRINCIPAL),
    KAFKA_COMMAND_CONFIG: localBrokerFiles(name).clientProperties(OPERATOR_PRINCIPAL),
  };
  return { name, port, kafka, env, restartMissingNodes: start };
}

/** Global teardown: stops the cluster if this run started it (a cluster of another run is not ours). */
export async function stopTestClusterOfThisRun(): Promise<void> {
  if (startedByThisRun()) await stopKafka(TEST_CLUSTER_NAME);
}
