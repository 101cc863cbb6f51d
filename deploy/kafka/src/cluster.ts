import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { KafkaSecurityMode } from '@tributary/config';
import {
  assertLocalCredentials,
  brokerClientEnv,
  brokerFiles,
  brokerSecurity,
  brokerSecurityMode,
  formatStorageOnce,
  newClusterId,
  nodeOf,
  readConfiguredPort,
  readLivePid,
  readRunningMode,
  READY_TIMEOUT_MS_DEFAULT,
  spawnBroker,
  stopKafka,
  waitUntilNodeReady,
  writeConfigFiles,
  type KafkaNode,
  type RunningKafka,
  type StartKafkaOptions,
} from './broker';
import {
  type BrokerLayout,
  CLUSTER_SIZES,
  PORT_MAX,
  clusterLayout,
  clusterQuorum,
  logDirsOf,
  nodeDataDir,
  replicationOf,
} from './config';
import { credentialFiles } from './credentials';
import { ProvisionError } from './errors';
import { assertJava, ensureKafkaInstalled } from './install';
import { dataDir as dataDirOf } from './paths';
import { assertPortFree } from './port';
import { tlsFiles } from './tls';
import { runKafkaCli } from './tools';
import { assertValidName, assertValidPort } from './validation';

/**
 * A local KRaft cluster: `brokers` nodes on 127.0.0.1, each a combined broker and controller, all of
 * them voters of one static quorum. Secured like the single broker: one CA, one broker certificate and
 * one set of credentials for the whole cluster (in its data dir), ACLs in the shared metadata log.
 * Starting it again adopts the nodes that run and starts the ones that do not, so a node that was
 * killed comes back with the same call.
 */
type NodeLayout = BrokerLayout & { nodeId: number };

export function isClusterDir(dataDir: string): boolean {
  return fs.existsSync(nodeDataDir(dataDir, 1));
}

/** The nodes of cluster `name` as its data dir describes them, with the pid of each running one. */
export function clusterNodes(name: string): KafkaNode[] {
  const dir = dataDirOf(name);
  const nodes: KafkaNode[] = [];
  for (let nodeId = 1; fs.existsSync(nodeDataDir(dir, nodeId)); nodeId += 1) {
    const nodeDir = nodeDataDir(dir, nodeId);
    const port = readConfiguredPort(nodeDir);
    if (port === undefined) break;
    const controllerPort = port + 1000;
    nodes.push(
      nodeOf(
        nodeId,
        { port, controllerPort, internalPort: port + 2000, dataDir: nodeDir },
        readLivePid(brokerFiles(nodeDir).pid),
      ),
    );
  }
  return nodes;
}

export async function startCluster(opts: StartKafkaOptions & { brokers: number }): Promise<RunningKafka> {
  assertValidName(opts.name);
  assertClusterShape(opts.port, opts.brokers);
  const log = opts.log ?? (() => undefined);
  const readyTimeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS_DEFAULT;
  const mode = opts.security ?? brokerSecurityMode();
  const dir = dataDirOf(opts.name);
  assertSameCluster(opts.name, dir, opts.brokers);
  const layouts = clusterLayout(opts.port, opts.brokers, dir);
  const ephemeral = ephemeralPortsOf(
    layouts.flatMap((layout) => [layout.port, layout.controllerPort, layout.internalPort]),
  );
  if (ephemeral.length > 0) {
    log(
      `WARNING: ports ${ephemeral.join(', ')} are in this machine's ephemeral port range: while a node is down, a client retrying it can be given its port for a connection of its own, and the node then fails to restart with "Address already in use"; pick a --port below the range`,
    );
  }
  const pids = layouts.map((layout) => runningPid(opts.name, layout, mode));
  const missing = layouts.filter((_, index) => pids[index] === undefined);
  const children = new Map<number, ChildProcess>();
  if (missing.length > 0) {
    const libs = await ensureKafkaInstalled({ log });
    const java = await assertJava();
    for (const layout of missing) await assertNodePortsFree(layout, mode);
    const security = mode === 'sasl_ssl' ? await brokerSecurity(opts.name, log) : undefined;
    const clusterId = readClusterId(layouts);
    // One JVM per node formats its storage; side by side they take the time of one.
    await Promise.all(
      missing.map((layout) => {
        writeConfigFiles(layout, security, clusterQuorum(layouts, layout.nodeId));
        return formatStorageOnce(java, libs, layout, mode, log, clusterId);
      }),
    );
    for (const layout of missing) {
      const child = spawnBroker(java, libs, layout, opts.detached ?? false);
      children.set(layout.nodeId, child);
      pids[layout.nodeId - 1] = child.pid!;
      log(
        `starting Kafka '${opts.name}' node ${layout.nodeId} on 127.0.0.1:${layout.port} (${mode}, pid ${child.pid}, log ${brokerFiles(layout.dataDir).brokerLog})`,
      );
    }
  }
  const handle = clusterHandle(opts.name, layouts, mode, pids as number[], children.size > 0);
  try {
    await Promise.all(
      layouts.map((layout, index) =>
        waitUntilNodeReady(opts.name, mode, layout, pids[index]!, opts.brokers, readyTimeoutMs),
      ),
    );
    // A node restarted beside running ones replays the credentials from the quorum's metadata log: only
    // a cluster started whole needs them written, which takes a JVM of its own.
    if (mode === 'sasl_ssl' && children.size > 0)
      await assertLocalCredentials(opts.name, layouts, readyTimeoutMs, missing.length === layouts.length);
  } catch (error) {
    // Only what this call started is stopped; nodes it found running belong to someone else.
    for (const child of children.values()) child.kill('SIGKILL');
    throw error;
  }
  if (missing.length === 0) log(`Kafka '${opts.name}' already running on ${handle.brokers}`);
  return handle;
}

function assertClusterShape(port: number, brokers: number): void {
  if (!(CLUSTER_SIZES as readonly number[]).includes(brokers)) {
    throw new ProvisionError(
      `--brokers must be one of ${CLUSTER_SIZES.join(', ')} (a KRaft quorum wants an odd number of voters), got '${brokers}'`,
      'pass --brokers 3',
    );
  }
  assertValidPort(port);
  assertValidPort(port + brokers - 1);
  if (port + brokers - 1 > PORT_MAX)
    throw new ProvisionError(
      `--port ${port} leaves no room for ${brokers} nodes`,
      `pass a --port below ${PORT_MAX - brokers + 1}`,
    );
}

/** A data dir belongs to one shape: a single broker's stays single, a cluster keeps its node count. */
function assertSameCluster(name: string, dir: string, brokers: number): void {
  if (fs.existsSync(brokerFiles(dir).serverProperties)) {
    throw new ProvisionError(
      `Kafka '${name}' is a single broker, not a cluster`,
      `start it without --brokers, or pick another --name`,
    );
  }
  const existing = clusterNodes(name).length;
  if (existing > 0 && existing !== brokers) {
    throw new ProvisionError(
      `Kafka '${name}' is a cluster of ${existing} nodes, not ${brokers}`,
      `start it with --brokers ${existing}, or delete ${dir} first`,
    );
  }
}

function runningPid(name: string, layout: NodeLayout, mode: KafkaSecurityMode): number | undefined {
  const pid = readLivePid(brokerFiles(layout.dataDir).pid);
  if (pid === undefined) return undefined;
  const runningPort = readConfiguredPort(layout.dataDir);
  if (runningPort !== layout.port) {
    throw new ProvisionError(
      `Kafka '${name}' node ${layout.nodeId} is already running on port ${runningPort} (pid ${pid}), not ${layout.port}`,
      `stop the cluster first (\`npm run kafka -- stop --name ${name}\`) or start it with its own --port`,
    );
  }
  if (readRunningMode(layout.dataDir) !== mode) {
    throw new ProvisionError(
      `Kafka '${name}' is already running without ${mode}`,
      `stop it first (\`npm run kafka -- stop --name ${name}\`) and start it again`,
    );
  }
  return pid;
}

async function assertNodePortsFree(layout: NodeLayout, mode: KafkaSecurityMode): Promise<void> {
  await assertPortFree(layout.port, `Kafka client listener of node ${layout.nodeId}`);
  await assertPortFree(layout.controllerPort, `KRaft controller listener of node ${layout.nodeId}`);
  if (mode === 'sasl_ssl') await assertPortFree(layout.internalPort, `inter-broker listener of node ${layout.nodeId}`);
}

/** The id the formatted nodes share, or a new one for a fresh cluster. */
function readClusterId(layouts: readonly NodeLayout[]): string {
  for (const layout of layouts) {
    try {
      const match = /^cluster\.id=(.+)$/m.exec(
        fs.readFileSync(path.join(logDirsOf(layout.dataDir), 'meta.properties'), 'utf8'),
      );
      if (match) return match[1]!.trim();
    } catch {
      // not formatted yet
    }
  }
  return newClusterId();
}

function clusterHandle(
  name: string,
  layouts: readonly NodeLayout[],
  mode: KafkaSecurityMode,
  pids: readonly number[],
  startedHere: boolean,
): RunningKafka {
  const brokers = layouts.map((layout) => `127.0.0.1:${layout.port}`).join(',');
  const { replicationFactor } = replicationOf(layouts.length);
  return {
    brokers,
    pid: pids[0]!,
    dataDir: dataDirOf(name),
    logFile: brokerFiles(layouts[0]!.dataDir).brokerLog,
    security: mode,
    clientEnv: (principal) => brokerClientEnv(name, brokers, mode, principal, replicationFactor),
    startedHere,
    nodes: layouts.map((layout, index) => nodeOf(layout.nodeId, layout, pids[index])),
    stop: () => stopKafka(name),
  };
}

/** The ports the kernel may hand out as the local end of an outgoing connection (Linux; none known elsewhere). */
export function ephemeralPortsOf(
  ports: readonly number[],
  rangeFile = '/proc/sys/net/ipv4/ip_local_port_range',
): number[] {
  let low: number, high: number;
  try {
    [low, high] = fs.readFileSync(rangeFile, 'utf8').trim().split(/\s+/).map(Number) as [number, number];
  } catch {
    return [];
  }
  return ports.filter((port) => port >= low && port <= high);
}

export interface QuorumStatus {
  /** The node id of the active controller. */
  readonly leaderId: number;
  readonly voters: readonly number[];
  /** What `kafka-metadata-quorum describe --status` printed. */
  readonly text: string;
}

/**
 * The quorum as Kafka's own tool describes it, asked on the controllers' listener. On a secured cluster
 * the tool acts as the brokers' certificate identity, the only one that listener accepts.
 */
export async function describeQuorum(name: string): Promise<QuorumStatus> {
  const running = clusterNodes(name).filter((node) => node.pid !== undefined);
  if (running.length === 0)
    throw new ProvisionError(
      `Kafka '${name}' has no running node`,
      `start it: \`npm run kafka -- start --name ${name} --brokers 3\``,
    );
  const secured = readRunningMode(running[0]!.dataDir) === 'sasl_ssl';
  const config = secured ? ['--command-config', tlsFiles(credentialFiles(name).tlsDir).brokerClientProperties] : [];
  const result = await runKafkaCli('kafka-metadata-quorum', [
    '--bootstrap-controller',
    running.map((node) => node.controller).join(','),
    ...config,
    'describe',
    '--status',
  ]);
  const leader = /^LeaderId:\s+(\d+)/m.exec(result.stdout);
  const voters = /^CurrentVoters:\s+\[(.*)\]/m.exec(result.stdout);
  if (result.code !== 0 || !leader) {
    throw new ProvisionError(
      `kafka-metadata-quorum could not describe the quorum of '${name}' (exit ${result.code})`,
      'is the cluster running? `npm run kafka -- status`',
      result.stderr.trim().split('\n').slice(-5).join('\n'),
    );
  }
  const voterIds = [...(voters?.[1] ?? '').matchAll(/"id":\s*(\d+)/g)].map((match) => Number(match[1]));
  return { leaderId: Number(leader[1]), voters: voterIds, text: result.stdout };
}
