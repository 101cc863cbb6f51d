import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type Log,
  ProvisionError,
  assertPortFree,
  isProcessAlive,
  nameProblem,
  processCommandLine,
  sleep,
  stopProcess as stopKafkaOrOtherProcess,
  tailFile,
} from '@tributary/kafka-provisioner';
import { ensurePasswordFile, ensureRegistryDatabase, registryDatabaseName } from './database';
import { RUNNER_JAR, ensureRegistryInstalled } from './install';
import { findRegistryJava } from './java';
import { registryDataRoot, registryFiles } from './paths';
import { REGISTRY_VERSION } from './version';

/** The Confluent-compatible API's path under the registry's base URL. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';
/** The variable a client of the registry reads: the Confluent-compatible API's base URL. */
export const SCHEMA_REGISTRY_URL_VARIABLE = 'SCHEMA_REGISTRY_URL';

export const READY_TIMEOUT_MS_DEFAULT = 90_000;
const READY_POLL_MS = 300;
const STOP_TIMEOUT_MS = 20_000;
const LOG_TAIL_LINES = 25;
export const PORT_MIN = 1024;
export const PORT_MAX = 65_534;
// A small pool: the registry serves a few start-up registrations and lookups, and the PostgreSQL server
// is shared with every service (Apicurio's own default opens 20 connections at start).
const POOL = { initial: '2', min: '2', max: '10' };
const JVM_ARGS = ['-Xms64m', '-Xmx384m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
/** Marks our process on its command line, so a pid file never makes us signal someone else's java. */
const NAME_PROPERTY = 'tributary.registry.name';

export interface StartRegistryOptions {
  /** Selects the data dir (pid, log, password): `dev` for npm start, `test` for the test harness. */
  readonly name: string;
  /** The HTTP port on 127.0.0.1; the management interface (health) takes port + 1. */
  readonly port: number;
  /** The owner's (a superuser's) PostgreSQL URL; the registry gets a database and role of its own beside it. */
  readonly ownerDatabaseUrl: string;
  /** Its database (and role) name; by default `<owner database>_registry`. */
  readonly database?: string;
  readonly detached?: boolean;
  readonly log?: Log;
  readonly readyTimeoutMs?: number;
}

export interface RunningRegistry {
  readonly name: string;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** The Confluent-compatible API: what SCHEMA_REGISTRY_URL holds. */
  readonly ccompatUrl: string;
  readonly pid: number;
  readonly logFile: string;
  readonly database: string;
  /** False when it was found running (someone else's to stop). */
  readonly startedHere: boolean;
  /** What a client process needs to reach it: SCHEMA_REGISTRY_URL. */
  clientEnv(): Record<string, string>;
  stop(): Promise<void>;
}

interface RegistryState {
  readonly port: number;
  readonly database: string;
}

export function registryPortProblem(port: number): string | undefined {
  if (Number.isInteger(port) && port >= PORT_MIN && port <= PORT_MAX) return undefined;
  return `--port must be an integer from ${PORT_MIN} to ${PORT_MAX} (the management interface takes port + 1), got '${port}'`;
}

/** The same rule as Kafka's broker names: they select a folder under the cache. */
export function registryNameProblem(name: string): string | undefined {
  return nameProblem(name);
}

function assertValid(opts: Pick<StartRegistryOptions, 'name' | 'port'>): void {
  const problem = registryNameProblem(opts.name) ?? registryPortProblem(opts.port);
  if (problem) throw new ProvisionError(problem, 'pass a valid --name and --port');
}

/**
 * Starts Apicurio Registry on 127.0.0.1 with its data in PostgreSQL, or returns the one a detached start
 * left running under `name`. Resolves once the registry answers on its Confluent-compatible API.
 */
export async function startRegistry(opts: StartRegistryOptions): Promise<RunningRegistry> {
  assertValid(opts);
  const log = opts.log ?? (() => undefined);
  const readyTimeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS_DEFAULT;
  const files = registryFiles(opts.name);
  const database = opts.database ?? registryDatabaseName(opts.ownerDatabaseUrl);
  const runningPid = readLivePid(opts.name);
  if (runningPid !== undefined) {
    const state = readState(opts.name);
    if (state?.port !== opts.port || state.database !== database)
      throw new ProvisionError(
        `the registry '${opts.name}' already runs on port ${state?.port ?? '?'} with database ${state?.database ?? '?'} (pid ${runningPid})`,
        `stop it first (\`npm run registry -- stop --name ${opts.name}\`) or start another with a different --name`,
      );
    const handle = registryHandle(opts.name, opts.port, database, runningPid, false);
    await waitUntilReady(handle, opts.port, readyTimeoutMs);
    log(`registry '${opts.name}' already running at ${handle.url} (pid ${runningPid})`);
    return handle;
  }
  const java = await findRegistryJava();
  const home = await ensureRegistryInstalled({ log });
  await assertPortFree(opts.port, 'schema registry HTTP');
  await assertPortFree(opts.port + 1, 'schema registry management (health)');
  const password = ensurePasswordFile(files.databasePassword);
  const db = await ensureRegistryDatabase(opts.ownerDatabaseUrl, { database, role: database, password, log });
  fs.mkdirSync(files.dataDir, { recursive: true, mode: 0o700 });
  const output = fs.openSync(files.log, 'a');
  // A minimal environment: the registry gets its own database credentials and never the owner's URL.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: process.env.LANG ?? 'C.UTF-8',
    APICURIO_STORAGE_KIND: 'sql',
    APICURIO_STORAGE_SQL_KIND: 'postgresql',
    APICURIO_DATASOURCE_URL: db.jdbcUrl,
    APICURIO_DATASOURCE_USERNAME: db.role,
    APICURIO_DATASOURCE_PASSWORD: password,
    APICURIO_DATASOURCE_JDBC_INITIAL_SIZE: POOL.initial,
    APICURIO_DATASOURCE_JDBC_MIN_SIZE: POOL.min,
    APICURIO_DATASOURCE_JDBC_MAX_SIZE: POOL.max,
    QUARKUS_HTTP_HOST: '127.0.0.1',
    QUARKUS_HTTP_PORT: String(opts.port),
    QUARKUS_MANAGEMENT_HOST: '127.0.0.1',
    QUARKUS_MANAGEMENT_PORT: String(opts.port + 1),
    QUARKUS_PROFILE: 'prod',
  };
  const child = spawn(
    java.java,
    [...JVM_ARGS, `-D${NAME_PROPERTY}=${opts.name}`, '-jar', path.join(home, RUNNER_JAR)],
    { cwd: files.dataDir, env, detached: opts.detached ?? false, stdio: ['ignore', output, output] },
  );
  fs.closeSync(output);
  if (child.pid === undefined)
    throw new ProvisionError(`could not start ${java.java}`, `check that it runs: \`${java.java} -version\``);
  fs.writeFileSync(files.pid, `${child.pid}\n`);
  fs.writeFileSync(files.state, `${JSON.stringify({ port: opts.port, database } satisfies RegistryState)}\n`);
  if (opts.detached) child.unref();
  else {
    // An attached registry must not outlive the Node process that owns it (a crashed test run).
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    child.once('exit', () => process.removeListener('exit', kill));
  }
  const handle = registryHandle(opts.name, opts.port, database, child.pid, true);
  log(
    `starting Apicurio Registry ${REGISTRY_VERSION} '${opts.name}' at ${handle.url} (Java ${java.major} from ${java.source}, PostgreSQL database ${database}, pid ${child.pid}, log ${files.log})`,
  );
  try {
    await waitUntilReady(handle, opts.port, readyTimeoutMs);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** Stops the registry named `name` through its pid file; a no-op when it is not running. */
export async function stopRegistry(name: string): Promise<void> {
  if (registryNameProblem(name)) throw new ProvisionError(registryNameProblem(name)!, 'pass a valid --name');
  const pid = readLivePid(name);
  if (pid !== undefined) await stopProcess(pid);
  fs.rmSync(registryFiles(name).pid, { force: true });
}

export interface RegistryStatus {
  readonly name: string;
  readonly pid: number | undefined;
  readonly url: string | undefined;
  readonly database: string | undefined;
  readonly logFile: string;
}

/** Every registry data dir under the cache, with the pid and address of those running. */
export function registryStatus(): RegistryStatus[] {
  const root = registryDataRoot();
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((name) => !registryNameProblem(name))
    .sort()
    .map((name) => {
      const pid = readLivePid(name);
      const state = readState(name);
      return {
        name,
        pid,
        url: pid !== undefined && state ? `http://127.0.0.1:${state.port}` : undefined,
        database: state?.database,
        logFile: registryFiles(name).log,
      };
    });
}

function registryHandle(
  name: string,
  port: number,
  database: string,
  pid: number,
  startedHere: boolean,
): RunningRegistry {
  const url = `http://127.0.0.1:${port}`;
  const ccompatUrl = `${url}${CCOMPAT_PATH}`;
  return {
    name,
    url,
    ccompatUrl,
    pid,
    logFile: registryFiles(name).log,
    database,
    startedHere,
    clientEnv: () => ({ [SCHEMA_REGISTRY_URL_VARIABLE]: ccompatUrl }),
    stop: async () => {
      await stopProcess(pid);
      fs.rmSync(registryFiles(name).pid, { force: true });
    },
  };
}

/** The pid from the pid file when that process is alive and is this registry; removes a stale file. */
function readLivePid(name: string): number | undefined {
  const file = registryFiles(name).pid;
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
  const commandLine = Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) ? processCommandLine(pid) : undefined;
  // A recycled pid belongs to some other program: never signal it.
  if (commandLine?.includes(`-D${NAME_PROPERTY}=${name} `)) return pid;
  fs.rmSync(file, { force: true });
  return undefined;
}

function readState(name: string): RegistryState | undefined {
  try {
    return JSON.parse(fs.readFileSync(registryFiles(name).state, 'utf8')) as RegistryState;
  } catch {
    return undefined;
  }
}

/** Until the registry's readiness check and its Confluent-compatible API both answer, it dies, or time is up. */
async function waitUntilReady(handle: RunningRegistry, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(handle.pid)) throw startupFailure(handle, 'the schema registry exited during start-up');
    if (
      (await answers(`http://127.0.0.1:${port + 1}/health/ready`)) &&
      (await answers(`${handle.ccompatUrl}/subjects`))
    )
      return;
    await sleep(READY_POLL_MS);
  }
  throw startupFailure(handle, `the schema registry at ${handle.url} did not get ready within ${timeoutMs} ms`);
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

function startupFailure(handle: RunningRegistry, summary: string): ProvisionError {
  const tail = tailFile(handle.logFile, LOG_TAIL_LINES);
  return new ProvisionError(summary, `read ${handle.logFile}`, tail ? `last log lines:\n${tail}` : '');
}

/** SIGTERM for Quarkus's graceful shutdown; SIGKILL when it takes longer than STOP_TIMEOUT_MS. */
function stopProcess(pid: number): Promise<void> {
  return stopKafkaOrOtherProcess(pid, 'the schema registry', STOP_TIMEOUT_MS);
}
