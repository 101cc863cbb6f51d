import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { kafkaSecurityOptions, type KafkaSecurity, type KafkaSecurityMode } from '@tributary/config';
import { OPERATOR_PRINCIPAL } from '@tributary/contracts';
import {
  BROKER_JVM_ARGS,
  BrokerLayout,
  BrokerSecurity,
  brokerLayout,
  brokerLogFile,
  logDirsOf,
  renderBrokerLog4j,
  renderServerProperties,
} from './config';
import { LOCAL_PRINCIPALS, alterScramCredentials, credentialFiles, ensurePasswordFile, readPassword } from './credentials';
import { ProvisionError } from './errors';
import { Log, assertJava, ensureKafkaInstalled } from './install';
import { dataDir as dataDirOf, kafkaHomeDir } from './paths';
import { assertPortFree } from './port';
import { isProcessAlive, processCommandLine, runCommand, sleep, tailFile } from './process';
import { BROKER_CERTIFICATE_CN, ensureTlsMaterial, tlsFiles, writeBrokerClientProperties } from './tls';
import { javaClassPath } from './tools';
import { assertValidName, assertValidPort } from './validation';

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
  stop(): Promise<void>;
}

export interface StartKafkaOptions {
  port: number;
  name: string;
  detached?: boolean;
  log?: Log;
  readyTimeoutMs?: number;
  /** Defaults to KAFKA_SECURITY, else sasl_ssl: plaintext only when asked for by name. */
  security?: KafkaSecurityMode;
}

/** The broker's security mode from KAFKA_SECURITY: sasl_ssl unless plaintext is named. */
export function brokerSecurityMode(env: NodeJS.ProcessEnv = process.env): KafkaSecurityMode {
  const value = env.KAFKA_SECURITY ?? 'sasl_ssl';
  if (value === 'sasl_ssl' || value === 'plaintext') return value;
  throw new ProvisionError(`KAFKA_SECURITY must be sasl_ssl or plaintext, got '${value}'`, 'unset it for the secured broker');
}

export const READY_TIMEOUT_MS_DEFAULT = 90_000;
const READY_POLL_INTERVAL_MS = 500;
const STOP_TIMEOUT_MS = 30_000;
const KILL_TIMEOUT_MS = 5_000;
const LOG_TAIL_LINES = 30;
const BROKER_MAIN_CLASS = 'kafka.Kafka';

const files = (dir: string) => ({
  serverProperties: path.join(dir, 'server.properties'),
  log4j: path.join(dir, 'log4j2.properties'),
  pid: path.join(dir, 'kafka.pid'),
  stdout: path.join(dir, 'stdout.log'),
  brokerLog: brokerLogFile(dir),
});

/** Starts a single-node KRaft broker, or returns the one a detached start left running under `name`. */
export async function startKafka(opts: StartKafkaOptions): Promise<RunningKafka> {
  assertValidPort(opts.port);
  assertValidName(opts.name);
  const log = opts.log ?? (() => undefined);
  const readyTimeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS_DEFAULT;
  const mode = opts.security ?? brokerSecurityMode();
  const layout = brokerLayout(opts.port, dataDirOf(opts.name));
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
  const security = mode === 'sasl_ssl' ? await brokerSecurity(opts.name, layout, log) : undefined;
  writeConfigFiles(layout, security);
  await formatStorageOnce(java, libs, layout, mode, log);
  const child = spawnBroker(java, libs, layout, opts.detached ?? false);
  const handle = brokerHandle(opts.name, layout, mode, child.pid!, child);
  log(`starting Kafka '${opts.name}' on ${handle.brokers} (${mode}, pid ${handle.pid}, log ${handle.logFile})`);
  try {
    await waitUntilReady(handle, layout, readyTimeoutMs);
    if (mode === 'sasl_ssl') await assertLocalCredentials(handle, layout, readyTimeoutMs);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** Makes (once) the CA, the broker's keystore and the passwords of the operator and the services. */
async function brokerSecurity(name: string, layout: BrokerLayout, log: Log): Promise<BrokerSecurity> {
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
async function assertLocalCredentials(handle: RunningKafka, layout: BrokerLayout, readyTimeoutMs: number): Promise<void> {
  const name = path.basename(handle.dataDir);
  await alterScramCredentials(
    { bootstrap: `127.0.0.1:${layout.internalPort}`, clientProperties: tlsFiles(credentialFiles(name).tlsDir).brokerClientProperties },
    LOCAL_PRINCIPALS.map((principal) => ({ kind: 'upsert', principal, password: ensurePasswordFile(name, principal) })),
  );
  // Brokers apply credentials from the metadata log asynchronously.
  const deadlineMs = Date.now() + readyTimeoutMs;
  const operator = operatorSecurity(handle);
  while (!(await answersMetadata(handle.brokers, kafkaSecurityOptions(operator)))) {
    if (Date.now() > deadlineMs) throw startupFailure(handle, `the operator could not authenticate to Kafka on ${handle.brokers} within ${readyTimeoutMs} ms`);
    await sleep(READY_POLL_INTERVAL_MS);
  }
}

/** Stops the broker named `name` through its pid file; a no-op when it is not running. */
export async function stopKafka(name: string): Promise<void> {
  assertValidName(name);
  const pidFile = files(dataDirOf(name)).pid;
  const pid = readLivePid(pidFile);
  if (pid !== undefined) await stopProcess(pid);
  fs.rmSync(pidFile, { force: true });
}

export interface KafkaStatus {
  name: string;
  pid: number | undefined;
  brokers: string | undefined;
  dataDir: string;
}

/** Every broker data dir under the cache, with the pid and address of those running. */
export function kafkaStatus(): KafkaStatus[] {
  const root = path.dirname(dataDirOf('x'));
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).sort().map((name) => {
    const dir = dataDirOf(name);
    const pid = readLivePid(files(dir).pid);
    const port = readConfiguredPort(dir);
    return { name, pid, brokers: pid && port ? `127.0.0.1:${port}` : undefined, dataDir: dir };
  });
}

async function adoptRunning(name: string, layout: BrokerLayout, mode: KafkaSecurityMode, readyTimeoutMs: number): Promise<RunningKafka | undefined> {
  const pid = readLivePid(files(layout.dataDir).pid);
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
function readLivePid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  const commandLine = Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) ? processCommandLine(pid) ?? BROKER_MAIN_CLASS : '';
  // A recycled pid belongs to some other program: never signal it.
  if (commandLine.includes(BROKER_MAIN_CLASS)) return pid;
  fs.rmSync(pidFile, { force: true });
  return undefined;
}

function readConfiguredPort(dir: string): number | undefined {
  try {
    const text = fs.readFileSync(files(dir).serverProperties, 'utf8');
    const match = /^advertised\.listeners=(?:PLAINTEXT|CLIENT):\/\/[^:,]+:(\d+)/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** How the running broker's server.properties was written: its client listener says. */
export function readRunningMode(dir: string): KafkaSecurityMode {
  try {
    return /^advertised\.listeners=CLIENT:/m.test(fs.readFileSync(files(dir).serverProperties, 'utf8')) ? 'sasl_ssl' : 'plaintext';
  } catch {
    return 'plaintext';
  }
}

function writeConfigFiles(layout: BrokerLayout, security: BrokerSecurity | undefined): void {
  const paths = files(layout.dataDir);
  fs.mkdirSync(layout.dataDir, { recursive: true, mode: 0o700 });
  // It holds the keystore's password.
  fs.writeFileSync(paths.serverProperties, renderServerProperties(layout, security), { mode: 0o600 });
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
async function formatStorageOnce(java: string, libs: string, layout: BrokerLayout, mode: KafkaSecurityMode, log: Log): Promise<void> {
  if (fs.existsSync(path.join(logDirsOf(layout.dataDir), 'meta.properties'))) return;
  const clusterId = newClusterId();
  log(`formatting KRaft storage in ${logDirsOf(layout.dataDir)} (cluster id ${clusterId}, ${mode})`);
  const paths = files(layout.dataDir);
  const args = [...jvmLogArgs(layout.dataDir), '-cp', javaClassPath(libs), 'kafka.tools.StorageTool',
    'format', '--cluster-id', clusterId, '--config', paths.serverProperties];
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
  return [`-Dlog4j2.configurationFile=${files(dir).log4j}`, `-Dkafka.logs.dir=${path.join(dir, 'logs')}`];
}

function spawnBroker(java: string, libs: string, layout: BrokerLayout, detached: boolean): ChildProcess {
  const paths = files(layout.dataDir);
  // JVM crashes and anything printed before log4j starts land here, not on our stdout.
  const outputFd = fs.openSync(paths.stdout, 'a');
  const args = [...BROKER_JVM_ARGS, ...jvmLogArgs(layout.dataDir), '-cp', javaClassPath(libs), BROKER_MAIN_CLASS, paths.serverProperties];
  const child = spawn(java, args, { detached, stdio: ['ignore', outputFd, outputFd], cwd: kafkaHomeDir() });
  fs.closeSync(outputFd);
  if (child.pid === undefined) throw new ProvisionError(`could not start ${java}`, 'check that Java runs: `java -version`');
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

function brokerHandle(name: string, layout: BrokerLayout, mode: KafkaSecurityMode, pid: number, child: ChildProcess | undefined): RunningKafka {
  const paths = files(layout.dataDir);
  const brokers = `127.0.0.1:${layout.port}`;
  return {
    brokers,
    pid,
    dataDir: layout.dataDir,
    logFile: paths.brokerLog,
    security: mode,
    clientEnv: (principal) => brokerClientEnv(name, brokers, mode, principal),
    startedHere: child !== undefined,
    stop: async () => {
      await stopProcess(pid);
      if (child) child.removeAllListeners('exit');
      fs.rmSync(paths.pid, { force: true });
    },
  };
}

/** SIGTERM for a controlled shutdown; SIGKILL when it takes longer than STOP_TIMEOUT_MS. */
async function stopProcess(pid: number): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  if (await waitForExit(pid, STOP_TIMEOUT_MS)) return;
  signal(pid, 'SIGKILL');
  if (!(await waitForExit(pid, KILL_TIMEOUT_MS))) {
    throw new ProvisionError(`Kafka (pid ${pid}) did not exit after SIGKILL`, `check the process with \`ps -p ${pid}\``);
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
  const deadlineMs = Date.now() + readyTimeoutMs;
  const probe = handle.security === 'plaintext' ? { brokers: handle.brokers, options: {} } : brokerIdentityProbe(handle, layout);
  while (Date.now() < deadlineMs) {
    if (!isProcessAlive(handle.pid)) throw startupFailure(handle, 'Kafka exited during start-up');
    if (await answersMetadata(probe.brokers, probe.options)) return;
    await sleep(READY_POLL_INTERVAL_MS);
  }
  throw startupFailure(handle, `Kafka on ${handle.brokers} did not answer within ${readyTimeoutMs} ms`);
}

/** The environment a process needs to reach broker `name` as `principal`. */
export function brokerClientEnv(name: string, brokers: string, mode: KafkaSecurityMode, principal: string): Record<string, string> {
  if (mode === 'plaintext') return { KAFKA_BROKERS: brokers, KAFKA_SECURITY: 'plaintext' };
  const local = credentialFiles(name);
  return {
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
function brokerIdentityProbe(handle: RunningKafka, layout: BrokerLayout) {
  const tls = tlsFiles(credentialFiles(path.basename(handle.dataDir)).tlsDir);
  const ssl = {
    ca: [fs.readFileSync(tls.caCertificate, 'utf8')],
    pfx: fs.readFileSync(tls.brokerKeystore),
    passphrase: fs.readFileSync(tls.keystorePasswordFile, 'utf8').trim(),
  };
  return { brokers: `127.0.0.1:${layout.internalPort}`, options: { ssl } };
}

async function answersMetadata(brokers: string, options: Pick<KafkaConfig, 'ssl' | 'sasl'>): Promise<boolean> {
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
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function startupFailure(handle: RunningKafka, summary: string): ProvisionError {
  const paths = files(handle.dataDir);
  const tail = [tailFile(paths.stdout, 10), tailFile(paths.brokerLog, LOG_TAIL_LINES)].filter(Boolean).join('\n');
  return new ProvisionError(summary, `read ${handle.logFile} and ${paths.stdout}`, tail ? `last log lines:\n${tail}` : '');
}
