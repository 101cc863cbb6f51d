import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { kafkaSecurityOptions, type KafkaSecurity, type KafkaSecurityMode } from '@tributary/config';
import { OPERATOR_PRINCIPAL } from '@tributary/contracts';
import {
  BROKER_JVM_ARGS,
  type BrokerLayout,
  type BrokerSecurity,
  type QuorumPlace,
  brokerLayout,
  brokerLogFile,
  logDirsOf,
  nodeDataDir,
  renderBrokerLog4j,
  renderServerProperties,
} from './config';
import {
  LOCAL_PRINCIPALS,
  alterScramCredentials,
  credentialFiles,
  ensurePasswordFile,
  readPassword,
} from './credentials';
import { ProvisionError } from './errors';
import { type Log, assertJava, ensureKafkaInstalled } from './install';
import { dataDir as dataDirOf, kafkaHomeDir } from './paths';
import { assertPortFree } from './port';
import { isProcessAlive, processCommandLine, runCommand, sleep, tailFile } from './process';
import { BROKER_CERTIFICATE_CN, ensureTlsMaterial, tlsFiles, writeBrokerClientProperties } from './tls';
import { javaClassPath } from './tools';
import { assertValidName, assertValidPort } from './validation';
import { clusterNodes, isClusterDir, startCluster } from './cluster';

export interface RunningKafka {
  brokers: string;
  pid: number;
  dataDir: string;
  logFile: string;
  /** sasl_ssl unless plaintext was asked for (KAFKA_SECURITY=plaintext). */
  security: KafkaSecurityMode;
  /** The environment a process needs to reach this broker as `principal` (KAFKA_* variables). */
  clientEnv(principal: string): Record<string, string>;
  /** True when this call started the broker; false when it found one already running (someone else's to stop). */
  readonly startedHere: boolean;
  /** Each node as it was when this handle was made: one for a single broker, `--brokers` of them for a cluster. */
  readonly nodes: readonly KafkaNode[];
  stop(): Promise<void>;
}

/** One KRaft node (combined broker and controller) of a single broker or a local cluster. */
export interface KafkaNode {
  readonly nodeId: number;
  /** Undefined when the node is not running. */
  readonly pid: number | undefined;
  /** Its client listener, host:port. */
  readonly brokers: string;
  /** Its controller listener, host:port (mutual TLS on a secured node). */
  readonly controller: string;
  readonly dataDir: string;
  readonly logFile: string;
}

export interface StartKafkaOptions {
  port: number;
  name: string;
  detached?: boolean;
  log?: Log;
  readyTimeoutMs?: number;
  /** Defaults to KAFKA_SECURITY, else sasl_ssl: plaintext only when asked for by name. */
  security?: KafkaSecurityMode;
  /** Nodes: 1 (the default) for a single broker, 3 or 5 for a local cluster (see cluster.ts). */
  brokers?: number;
}

/** The broker's security mode from KAFKA_SECURITY: sasl_ssl unless plaintext is named. */
export function brokerSecurityMode(env: NodeJS.ProcessEnv = process.env): KafkaSecurityMode {
  const value = env.KAFKA_SECURITY ?? 'sasl_ssl';
  if (value === 'sasl_ssl' || value === 'plaintext') return value;
  throw new ProvisionError(
    `KAFKA_SECURITY must be sasl_ssl or plaintext, got '${value}'`,
    'unset it for the secured broker',
  );
}

export const READY_TIMEOUT_MS_DEFAULT = 90_000;
const READY_POLL_INTERVAL_MS = 500;
const STOP_TIMEOUT_MS = 30_000;
const KILL_TIMEOUT_MS = 5_000;
const LOG_TAIL_LINES = 30;
const BROKER_MAIN_CLASS = 'kafka.Kafka';

export const brokerFiles = (dir: string) => ({
  serverProperties: path.join(dir, 'server.properties'),
  log4j: path.join(dir, 'log4j2.properties'),
  pid: path.join(dir, 'kafka.pid'),
  stdout: path.join(dir, 'stdout.log'),
  brokerLog: brokerLogFile(dir),
});

/** Starts a single-node KRaft broker, or returns the one a detached start left running under `name`. */
export async function startKafka(opts: StartKafkaOptions): Promise<RunningKafka> {
  if ((opts.brokers ?? 1) !== 1) return startCluster({ ...opts, brokers: opts.brokers! });
  assertValidPort(opts.port);
  assertValidName(opts.name);
  const log = opts.log ?? (() => undefined);
  const readyTimeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS_DEFAULT;
  const mode = opts.security ?? brokerSecurityMode();
  const layout = brokerLayout(opts.port, dataDirOf(opts.name));
  if (isClusterDir(layout.dataDir)) {
    const count = clusterNodes(opts.name).length;
    throw new ProvisionError(
      `Kafka '${opts.name}' is a cluster of ${count} nodes`,
      `start it with --brokers ${count}, or pick another --name`,
    );
  }
  const existing = await adoptRunning(opts.name, layout, mode, readyTimeoutMs);
  if (existing) {
    log(`Kafka '${opts.name}' already running on ${existing.brokers} (pid ${existing.pid})`);
    return existing;
  }
  const libs = await ensureKafkaInstalled({ log });
  const java = await assertJava();
  await assertPortFree(layout.port, 'Kafka client listener');
  await assertPortFree(layout.controllerPort, 'KRaft controller listener');
  if (mode === 'sasl_ssl') await assertPortFree(layout.internalPort, 'inter-broker listener');
  const security = mode === 'sasl_ssl' ? await brokerSecurity(opts.name, log) : undefined;
  writeConfigFiles(layout, security);
  await formatStorageOnce(java, libs, layout, mode, log);
  const child = spawnBroker(java, libs, layout, opts.detached ?? false);
  const handle = brokerHandle(opts.name, layout, mode, child.pid!, child);
  log(`starting Kafka '${opts.name}' on ${handle.brokers} (${mode}, pid ${handle.pid}, log ${handle.logFile})`);
  try {
    await waitUntilReady(handle, layout, readyTimeoutMs);
    if (mode === 'sasl_ssl') await assertLocalCredentials(opts.name, [layout], readyTimeoutMs);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** Makes (once) the CA, the broker's keystore and the passwords of the operator and the services. */
export async function brokerSecurity(name: string, log: Log): Promise<BrokerSecurity> {
  const files = credentialFiles(name);
  const tls = await ensureTlsMaterial(files.tlsDir, log);
  writeBrokerClientProperties(tls);
  for (const principal of LOCAL_PRINCIPALS) ensurePasswordFile(name, principal);
  return {
    caCertificate: tls.caCertificate,
    brokerKeystore: tls.brokerKeystore,
    keystorePassword: fs.readFileSync(tls.keystorePasswordFile, 'utf8').trim(),
    superUsers: [OPERATOR_PRINCIPAL, BROKER_CERTIFICATE_CN],
  };
}

/**
 * Makes the broker hold the credentials of the operator and the services, as their password files say,
 * then waits until the operator can authenticate. It runs at every start, through the inter-broker
 * listener as the broker's own certificate identity, so it needs no password to work: a new service
 * gets its credential, and a broker that came up without its credentials gets them back. (A test broker
 * with a long history was once seen to restart holding none, though its metadata log held them all.)
 */
export async function assertLocalCredentials(
  name: string,
  nodes: readonly BrokerLayout[],
  readyTimeoutMs: number,
  upsert = true,
): Promise<void> {
  if (upsert)
    await alterScramCredentials(
      {
        bootstrap: nodes.map((node) => `127.0.0.1:${node.internalPort}`).join(','),
        clientProperties: tlsFiles(credentialFiles(name).tlsDir).brokerClientProperties,
      },
      LOCAL_PRINCIPALS.map((principal) => ({
        kind: 'upsert',
        principal,
        password: ensurePasswordFile(name, principal),
      })),
    );
  // Brokers apply credentials from the metadata log asynchronously, each node on its own.
  const deadlineMs = Date.now() + readyTimeoutMs;
  const operator = kafkaSecurityOptions(operatorSecurity({ security: 'sasl_ssl', dataDir: dataDirOf(name) }));
  for (const node of nodes) {
    const brokers = `127.0.0.1:${node.port}`;
    while (!(await answersMetadata(brokers, operator))) {
      if (Date.now() > deadlineMs)
        throw startupFailure(
          node.dataDir,
          `the operator could not authenticate to Kafka on ${brokers} within ${readyTimeoutMs} ms`,
        );
      await sleep(READY_POLL_INTERVAL_MS);
    }
  }
}

/** Stops the broker named `name` through its pid file; a no-op when it is not running. */
export async function stopKafka(name: string): Promise<void> {
  assertValidName(name);
  const nodeDirs = isClusterDir(dataDirOf(name)) ? clusterNodes(name).map((node) => node.dataDir) : [dataDirOf(name)];
  // In parallel: each node's controlled shutdown is bounded by STOP_TIMEOUT_MS, then SIGKILL.
  await Promise.all(nodeDirs.map((dir) => stopNode(dir)));
}

async function stopNode(dir: string): Promise<void> {
  const pidFile = brokerFiles(dir).pid;
  const pid = readLivePid(pidFile);
  if (pid !== undefined) await stopProcess(pid);
  fs.rmSync(pidFile, { force: true });
}

export interface KafkaStatus {
  name: string;
  /** The pid of the first running node. */
  pid: number | undefined;
  /** The client listeners of the running nodes, comma separated (KAFKA_BROKERS). */
  brokers: string | undefined;
  dataDir: string;
  /** Every node of a cluster, running or not; undefined for a single broker. */
  nodes?: KafkaNode[];
}

/** Every broker data dir under the cache, with the pid and address of those running. */
export function kafkaStatus(): KafkaStatus[] {
  const root = path.dirname(dataDirOf('x'));
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .sort()
    .map((name) => {
      const dir = dataDirOf(name);
      if (isClusterDir(dir)) {
        const nodes = clusterNodes(name);
        const running = nodes.filter((node) => node.pid !== undefined);
        return {
          name,
          pid: running[0]?.pid,
          brokers: running.length > 0 ? running.map((node) => node.brokers).join(',') : undefined,
          dataDir: dir,
          nodes,
        };
      }
      const pid = readLivePid(brokerFiles(dir).pid);
      const port = readConfiguredPort(dir);
      return { name, pid, brokers: pid && port ? `127.0.0.1:${port}` : undefined, dataDir: dir };
    });
}

async function adoptRunning(
  name: string,
  layout: BrokerLayout,
  mode: KafkaSecurityMode,
  readyTimeoutMs: number,
): Promise<RunningKafka | undefined> {
  const pid = readLivePid(brokerFiles(layout.dataDir).pid);
  if (pid === undefined) return undefined;
  const runningPort = readConfiguredPort(layout.dataDir);
  if (runningPort !== layout.port) {
    throw new ProvisionError(
      `Kafka '${name}' is already running on port ${runningPort} (pid ${pid}), not ${layout.port}`,
      `stop it first (\`npm run kafka -- stop --name ${name}\`) or start another one with a different --name`,
    );
  }
  const runningMode = readRunningMode(layout.dataDir);
  if (runningMode !== mode) {
    throw new ProvisionError(
      `Kafka '${name}' is already running with ${runningMode}, not ${mode}`,
      `stop it first (\`npm run kafka -- stop --name ${name}\`) and start it again`,
    );
  }
  const handle = brokerHandle(name, layout, mode, pid, undefined);
  await waitUntilReady(handle, layout, readyTimeoutMs);
  return handle;
}

/** The pid from the pid file when that process is alive and is a Kafka broker; removes a stale file. */
export function readLivePid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  const commandLine =
    Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) ? (processCommandLine(pid) ?? BROKER_MAIN_CLASS) : '';
  // A recycled pid belongs to some other program: never signal it.
  if (commandLine.includes(BROKER_MAIN_CLASS)) return pid;
  fs.rmSync(pidFile, { force: true });
  return undefined;
}

export function readConfiguredPort(dir: string): number | undefined {
  try {
    const text = fs.readFileSync(brokerFiles(dir).serverProperties, 'utf8');
    const match = /^advertised\.listeners=(?:PLAINTEXT|CLIENT):\/\/[^:,]+:(\d+)/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** How the running broker's server.properties was written: its client listener says. */
export function readRunningMode(dir: string): KafkaSecurityMode {
  // A cluster's nodes share one mode; its first node says which.
  const nodeDir = isClusterDir(dir) ? nodeDataDir(dir, 1) : dir;
  try {
    return /^advertised\.listeners=CLIENT:/m.test(fs.readFileSync(brokerFiles(nodeDir).serverProperties, 'utf8'))
      ? 'sasl_ssl'
      : 'plaintext';
  } catch {
    return 'plaintext';
  }
}

export function writeConfigFiles(
  layout: BrokerLayout,
  security: BrokerSecurity | undefined,
  quorum?: QuorumPlace,
): void {
  const paths = brokerFiles(layout.dataDir);
  fs.mkdirSync(layout.dataDir, { recursive: true, mode: 0o700 });
  // It holds the keystore's password.
  fs.writeFileSync(paths.serverProperties, renderServerProperties(layout, security, quorum), { mode: 0o600 });
  fs.writeFileSync(paths.log4j, renderBrokerLog4j(layout.dataDir));
}

/**
 * A random cluster id in Kafka's Uuid text form (16 bytes as 22 base64url chars). Like Kafka's own
 * Uuid.randomUuid(), never one that starts with '-': kafka-storage's argument parser reads
 * `--cluster-id -x...` as a missing value and an unknown option, so one fresh format in 64 failed.
 */
export function newClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

// KRaft refuses to start on an unformatted log dir; formatting twice would fail, and would throw
// away the cluster id that the existing data belongs to.
// Every node of a cluster is formatted with the same cluster id.
export async function formatStorageOnce(
  java: string,
  libs: string,
  layout: BrokerLayout,
  mode: KafkaSecurityMode,
  log: Log,
  clusterId = newClusterId(),
): Promise<void> {
  if (fs.existsSync(path.join(logDirsOf(layout.dataDir), 'meta.properties'))) return;
  log(`formatting KRaft storage in ${logDirsOf(layout.dataDir)} (cluster id ${clusterId}, ${mode})`);
  const paths = brokerFiles(layout.dataDir);
  const args = [
    ...jvmLogArgs(layout.dataDir),
    '-cp',
    javaClassPath(libs),
    'kafka.tools.StorageTool',
    'format',
    '--cluster-id',
    clusterId,
    '--config',
    paths.serverProperties,
  ];
  const result = await runCommand(java, args);
  if (result.code !== 0) {
    throw new ProvisionError(
      `formatting KRaft storage in ${logDirsOf(layout.dataDir)} failed (exit ${result.code})`,
      `delete ${layout.dataDir} and start again`,
      (result.stderr + result.stdout).trim().split('\n').slice(-LOG_TAIL_LINES).join('\n'),
    );
  }
}

function jvmLogArgs(dir: string): string[] {
  return [`-Dlog4j2.configurationFile=${brokerFiles(dir).log4j}`, `-Dkafka.logs.dir=${path.join(dir, 'logs')}`];
}

export function spawnBroker(java: string, libs: string, layout: BrokerLayout, detached: boolean): ChildProcess {
  const paths = brokerFiles(layout.dataDir);
  // JVM crashes and anything printed before log4j starts land here, not on our stdout.
  const outputFd = fs.openSync(paths.stdout, 'a');
  const args = [
    ...BROKER_JVM_ARGS,
    ...jvmLogArgs(layout.dataDir),
    '-cp',
    javaClassPath(libs),
    BROKER_MAIN_CLASS,
    paths.serverProperties,
  ];
  const child = spawn(java, args, { detached, stdio: ['ignore', outputFd, outputFd], cwd: kafkaHomeDir() });
  fs.closeSync(outputFd);
  if (child.pid === undefined)
    throw new ProvisionError(`could not start ${java}`, 'check that Java runs: `java -version`');
  fs.writeFileSync(paths.pid, `${child.pid}\n`);
  if (detached) child.unref();
  else stopWithThisProcess(child);
  return child;
}

// An attached broker must not outlive the Node process that owns it (a crashed test run).
function stopWithThisProcess(child: ChildProcess): void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.removeListener('exit', kill));
}

function brokerHandle(
  name: string,
  layout: BrokerLayout,
  mode: KafkaSecurityMode,
  pid: number,
  child: ChildProcess | undefined,
): RunningKafka {
  const paths = brokerFiles(layout.dataDir);
  const brokers = `127.0.0.1:${layout.port}`;
  return {
    brokers,
    pid,
    dataDir: layout.dataDir,
    logFile: paths.brokerLog,
    security: mode,
    clientEnv: (principal) => brokerClientEnv(name, brokers, mode, principal),
    startedHere: child !== undefined,
    nodes: [nodeOf(1, layout, pid)],
    stop: async () => {
      await stopProcess(pid);
      if (child) child.removeAllListeners('exit');
      fs.rmSync(paths.pid, { force: true });
    },
  };
}

export function nodeOf(nodeId: number, layout: BrokerLayout, pid: number | undefined): KafkaNode {
  return {
    nodeId,
    pid,
    brokers: `127.0.0.1:${layout.port}`,
    controller: `127.0.0.1:${layout.controllerPort}`,
    dataDir: layout.dataDir,
    logFile: brokerFiles(layout.dataDir).brokerLog,
  };
}

/**
 * SIGTERM for a controlled shutdown; SIGKILL when it takes longer than `stopTimeoutMs`. `what` names the
 * process in the error (the schema registry's provisioner stops its own process with this too).
 */
export async function stopProcess(pid: number, what = 'Kafka', stopTimeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  if (await waitForExit(pid, stopTimeoutMs)) return;
  signal(pid, 'SIGKILL');
  if (!(await waitForExit(pid, KILL_TIMEOUT_MS))) {
    throw new ProvisionError(
      `${what} (pid ${pid}) did not exit after SIGKILL`,
      `check the process with \`ps -p ${pid}\``,
    );
  }
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false; // already gone
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadlineMs = Date.now() + timeoutMs;
  while (Date.now() < deadlineMs) {
    if (!isProcessAlive(pid)) return true;
    await sleep(100);
  }
  return !isProcessAlive(pid);
}

/**
 * Polls with a kafkajs admin until the broker describes its cluster, it dies, or the time is up. A
 * secured broker is asked on its inter-broker listener with its own certificate, which needs no
 * credential the broker might not hold yet.
 */
async function waitUntilReady(handle: RunningKafka, layout: BrokerLayout, readyTimeoutMs: number): Promise<void> {
  await waitUntilNodeReady(path.basename(handle.dataDir), handle.security, layout, handle.pid, 1, readyTimeoutMs);
}

/** Until the node answers, as one of a cluster of `clusterSize` brokers, on its own listener. */
export async function waitUntilNodeReady(
  name: string,
  mode: KafkaSecurityMode,
  layout: BrokerLayout,
  pid: number,
  clusterSize: number,
  readyTimeoutMs: number,
): Promise<void> {
  const deadlineMs = Date.now() + readyTimeoutMs;
  const probe =
    mode === 'plaintext' ? { brokers: `127.0.0.1:${layout.port}`, options: {} } : brokerIdentityProbe(name, layout);
  while (Date.now() < deadlineMs) {
    if (!isProcessAlive(pid)) throw startupFailure(layout.dataDir, 'Kafka exited during start-up');
    if (await answersMetadata(probe.brokers, probe.options, clusterSize)) return;
    await sleep(READY_POLL_INTERVAL_MS);
  }
  throw startupFailure(
    layout.dataDir,
    `Kafka on 127.0.0.1:${layout.port} did not answer as one of ${clusterSize} brokers within ${readyTimeoutMs} ms`,
  );
}

/** The environment a process needs to reach broker `name` as `principal`. */
export function brokerClientEnv(
  name: string,
  brokers: string,
  mode: KafkaSecurityMode,
  principal: string,
  replicationFactor = 1,
): Record<string, string> {
  // A cluster's processes create the topics they need with its replication factor (topicsEnv).
  const replication: Record<string, string> =
    replicationFactor === 1 ? {} : { KAFKA_REPLICATION_FACTOR: String(replicationFactor) };
  if (mode === 'plaintext') return { KAFKA_BROKERS: brokers, KAFKA_SECURITY: 'plaintext', ...replication };
  const local = credentialFiles(name);
  return {
    ...replication,
    KAFKA_BROKERS: brokers,
    KAFKA_SECURITY: 'sasl_ssl',
    KAFKA_USERNAME: principal,
    KAFKA_PASSWORD_FILE: local.passwordFile(principal),
    KAFKA_CA_FILE: local.caCertificate,
  };
}

/** How the provisioner itself connects: as the operator, over the secured listener when there is one. */
export function operatorSecurity(handle: Pick<RunningKafka, 'security' | 'dataDir'>): KafkaSecurity {
  if (handle.security === 'plaintext') return { mode: 'plaintext' };
  const name = path.basename(handle.dataDir);
  return {
    mode: 'sasl_ssl',
    username: OPERATOR_PRINCIPAL,
    password: readPassword(name, OPERATOR_PRINCIPAL),
    caPem: fs.readFileSync(credentialFiles(name).caCertificate, 'utf8'),
  };
}

/** The inter-broker listener, reached with the broker's own keystore (mutual TLS). */
function brokerIdentityProbe(name: string, layout: BrokerLayout) {
  const tls = tlsFiles(credentialFiles(name).tlsDir);
  const ssl = {
    ca: [fs.readFileSync(tls.caCertificate, 'utf8')],
    pfx: fs.readFileSync(tls.brokerKeystore),
    passphrase: fs.readFileSync(tls.keystorePasswordFile, 'utf8').trim(),
  };
  return { brokers: `127.0.0.1:${layout.internalPort}`, options: { ssl } };
}

/** True when the broker describes a cluster of at least `brokersMin` live brokers with a controller. */
export async function answersMetadata(
  brokers: string,
  options: Pick<KafkaConfig, 'ssl' | 'sasl'>,
  brokersMin = 1,
): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'tributary-kafka-provisioner',
    brokers: [brokers],
    ...options,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length >= brokersMin && cluster.controller !== null && cluster.controller >= 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export function startupFailure(nodeDataDir: string, summary: string): ProvisionError {
  const paths = brokerFiles(nodeDataDir);
  const tail = [tailFile(paths.stdout, 10), tailFile(paths.brokerLog, LOG_TAIL_LINES)].filter(Boolean).join('\n');
  return new ProvisionError(
    summary,
    `read ${paths.brokerLog} and ${paths.stdout}`,
    tail ? `last log lines:\n${tail}` : '',
  );
}
