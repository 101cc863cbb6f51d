// Runs a benchmark script against Kafka brokers of its own, so `npm run bench:*` needs nothing running
// first: when KAFKA_BROKERS is not set, two KRaft brokers are started on free ports with the provisioner,
// a secured one (`bench-<x>`, the product's setting) and a plaintext one (`bench-<x>-plain`), the script
// runs once as the secured broker's operator with BENCH_KAFKA_NAME naming that broker and
// BENCH_PLAINTEXT_BROKERS the plaintext one, and both are stopped afterwards. The script measures both
// in the same run, interleaved, so the cost of security is read from one run on one machine.
//   ts-node bench/with-broker.ts bench/attribution/run.ts
// With KAFKA_BROKERS set the environment is passed through as it is: no plaintext comparison unless
// BENCH_PLAINTEXT_BROKERS is given too; BENCH_KAFKA_NAME may name that broker when it is a local one of
// the provisioner's, so the services run as their own principals there.
// A benchmark script reads this contract back with benchBrokers() below.
import { readFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describeKafkaSecurity, kafkaEnv, localBrokerFiles, type KafkaEnv } from '@tributary/config';
import {
  applyServiceAcls,
  formatProvisionError,
  ProvisionError,
  startKafka,
  type RunningKafka,
} from '@tributary/kafka-provisioner';
import { CONTROLLER_PORT_OFFSET, INTERNAL_PORT_OFFSET, PORT_MAX } from '../deploy/kafka/src/config';

const ROOT = path.resolve(__dirname, '..');
/** The ports one broker takes: its client listener, its KRaft controller and its inter-broker listener. */
const PORT_OFFSETS = [0, CONTROLLER_PORT_OFFSET, INTERNAL_PORT_OFFSET];
const PORT_ATTEMPTS_MAX = 50;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A client port whose controller and inter-broker ports are free too, and none of them in `taken`. */
async function freePort(taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < PORT_ATTEMPTS_MAX; attempt += 1) {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // The provisioner refuses a client port above PORT_MAX (its inter-broker listener must fit below 65536).
    if (port > PORT_MAX) continue;
    const ports = PORT_OFFSETS.map((offset) => port + offset);
    if (ports.some((candidate) => taken.has(candidate))) continue;
    if ((await Promise.all(ports.map(bindable))).every(Boolean)) return port;
  }
  throw new ProvisionError(
    `no free set of ports (port, port + ${CONTROLLER_PORT_OFFSET}, port + ${INTERNAL_PORT_OFFSET}) found`,
    'free some ports, or pass KAFKA_BROKERS',
  );
}

function run(script: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const args = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', path.resolve(ROOT, script)];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...env, TS_NODE_TRANSPILE_ONLY: 'true' },
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/** Starts both brokers at once (two JVMs start in about the time of one); stops one that started if one failed. */
async function startBrokers(name: string): Promise<{ secured: RunningKafka; plaintext: RunningKafka }> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const securedPort = await freePort(new Set());
  const plaintextPort = await freePort(new Set(PORT_OFFSETS.map((offset) => securedPort + offset)));
  // Security named for both: a KAFKA_SECURITY left in the shell must not turn the secured broker plaintext.
  const [secured, plaintext] = await Promise.allSettled([
    startKafka({ port: securedPort, name, security: 'sasl_ssl', log }),
    startKafka({ port: plaintextPort, name: `${name}-plain`, security: 'plaintext', log }),
  ]);
  if (secured.status === 'fulfilled' && plaintext.status === 'fulfilled') {
    return { secured: secured.value, plaintext: plaintext.value };
  }
  const both = [secured, plaintext];
  await Promise.all(both.flatMap((started) => (started.status === 'fulfilled' ? [started.value.stop()] : [])));
  throw both.map((started) => (started.status === 'rejected' ? started.reason : undefined)).find(Boolean);
}

async function main(): Promise<number> {
  const script = process.argv[2];
  if (!script) throw new RangeError('usage: with-broker.ts <benchmark script>');
  if (process.env.KAFKA_BROKERS) return run(script, process.env);
  const name = `bench-${path.basename(path.dirname(script))}`;
  const { secured, plaintext } = await startBrokers(name);
  try {
    // An inline KAFKA_PASSWORD in the shell would win over the operator's password file.
    const { KAFKA_PASSWORD: _, ...inherited } = process.env;
    const operator = secured.clientEnv('operator');
    const bench = { BENCH_KAFKA_NAME: name, BENCH_PLAINTEXT_BROKERS: plaintext.brokers };
    return await run(script, { ...inherited, ...operator, ...bench });
  } finally {
    await Promise.all([secured.stop(), plaintext.stop()]);
  }
}

/** The variables that say how a process reaches Kafka; a target's environment replaces all of them. */
export const KAFKA_CONNECTION_VARIABLES = [
  'KAFKA_BROKERS',
  'KAFKA_SECURITY',
  'KAFKA_USERNAME',
  'KAFKA_PASSWORD',
  'KAFKA_PASSWORD_FILE',
  'KAFKA_CA_FILE',
] as const;

/** One broker a benchmark measures against. */
export interface BenchBroker {
  /** `secured`: KAFKA_BROKERS, the product's setting (the figures' plain names); `plaintext`: the comparison. */
  readonly role: 'secured' | 'plaintext';
  /** The load generator's connection: the operator's on a secured broker. */
  readonly kafka: KafkaEnv;
  /** A service process's whole Kafka environment (KAFKA_CONNECTION_VARIABLES) to run as `principal`. */
  serviceEnv(principal: string): Record<string, string>;
  /** Grants the services their ACLs for a topic prefix; a no-op where they run as the benchmark's principal. */
  grantServices(topicPrefix: string): Promise<void>;
  /** For a results file: how a service running as `principal`, and the load generator, reach this broker. */
  describe(principal: string): string;
}

/**
 * The brokers with-broker.ts handed a benchmark script: KAFKA_BROKERS as the operator (or whoever the
 * KAFKA_* variables name), and BENCH_PLAINTEXT_BROKERS when given. On a secured broker named by
 * BENCH_KAFKA_NAME a service runs as its own principal, with that broker's password file and the ACLs
 * grantServices renders; without a name no ACL can be granted, so it runs as the benchmark's principal.
 */
export function benchBrokers(env: NodeJS.ProcessEnv = process.env): { secured: BenchBroker; plaintext?: BenchBroker } {
  const kafka = kafkaEnv(env);
  const name = env.BENCH_KAFKA_NAME;
  const given = Object.fromEntries(
    KAFKA_CONNECTION_VARIABLES.flatMap((variable) => (env[variable] ? [[variable, env[variable]]] : [])),
  );
  const brokers = kafka.KAFKA_BROKERS.join(',');
  const describe = (broker: Pick<BenchBroker, 'kafka' | 'serviceEnv'>, principal: string) =>
    `the service ${describeKafkaSecurity(kafkaEnv(broker.serviceEnv(principal)).kafkaSecurity)}, ` +
    `the load generator ${describeKafkaSecurity(broker.kafka.kafkaSecurity)}`;
  const secured: BenchBroker = {
    role: 'secured',
    kafka,
    serviceEnv: (principal) => {
      if (kafka.kafkaSecurity.mode === 'plaintext') return { KAFKA_BROKERS: brokers, KAFKA_SECURITY: 'plaintext' };
      const base = { KAFKA_BROKERS: brokers, KAFKA_SECURITY: 'sasl_ssl' };
      if (!name) return { ...given, ...base, KAFKA_USERNAME: kafka.kafkaSecurity.username };
      const files = localBrokerFiles(name, env);
      const credentials = { KAFKA_PASSWORD_FILE: files.passwordFile(principal), KAFKA_CA_FILE: files.caCertificate };
      return { ...base, KAFKA_USERNAME: principal, ...credentials };
    },
    grantServices: async (topicPrefix) => {
      if (kafka.kafkaSecurity.mode === 'sasl_ssl' && name) await applyServiceAcls(name, topicPrefix);
    },
    describe: (principal) => describe(secured, principal),
  };
  if (!env.BENCH_PLAINTEXT_BROKERS) return { secured };
  const plaintextEnv = { KAFKA_BROKERS: env.BENCH_PLAINTEXT_BROKERS, KAFKA_SECURITY: 'plaintext' };
  const plaintext: BenchBroker = {
    role: 'plaintext',
    kafka: kafkaEnv(plaintextEnv),
    serviceEnv: () => plaintextEnv,
    grantServices: async () => undefined,
    describe: (principal) => describe(plaintext, principal),
  };
  return { secured, plaintext };
}

/**
 * How much slower secured is than plaintext, in % (positive: secured slower), over the interleaved
 * pairs of one run: each pair ran back to back, so the machine's drift between runs (1.5x on a shared
 * machine) hits both of a pair alike. Median, min and max of the pairs' costs.
 */
export function securityCost(secured: readonly number[], plaintext: readonly number[]) {
  const pairs = secured
    .map((rate, index) => [rate, plaintext[index]] as const)
    .filter((pair): pair is readonly [number, number] => pair[1] !== undefined && pair[1] > 0)
    .map(([securedRate, plaintextRate]) => Math.round((1 - securedRate / plaintextRate) * 1_000) / 10)
    .sort((a, b) => a - b);
  if (pairs.length === 0) return null;
  return { median: pairs[Math.floor(pairs.length / 2)]!, min: pairs[0]!, max: pairs.at(-1)!, unit: '%' };
}

/** Which code and when, for a results file: the commit, `-dirty` when the work tree held changes (measured too). */
/**
 * The machine a benchmark ran on, for its results file: the same fields in every benchmark. The load
 * average is read when this is called (at the end of a run), since the machine is shared and noisy.
 */
/**
 * CPU seconds (user + system) a process used so far, from /proc (Linux); NaN when it is gone. With
 * `reapedChildren`, those of its children that ended and were reaped too (cutime, cstime): a server's
 * worker that exits between two readings then stays in the difference (PostgreSQL's backends).
 */
export function cpuSecondsOf(pid: number | undefined, { reapedChildren = false } = {}): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const children = reapedChildren ? Number(fields[13]) + Number(fields[14]) : 0;
    return (Number(fields[11]) + Number(fields[12]) + children) / 100;
  } catch {
    return Number.NaN;
  }
}

export function benchMachine(note: string) {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage1mAtEnd: Math.round(os.loadavg()[0]! * 100) / 100,
    node: process.version,
    note,
  };
}

export function benchProvenance(): { commit: string; date: string } {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  let commit = 'unknown';
  try {
    commit = `${git('rev-parse', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '-dirty' : ''}`;
  } catch {
    // Not a git checkout (an unpacked archive): the date still says when.
  }
  return { commit, date: new Date().toISOString() };
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        error instanceof ProvisionError ? `${formatProvisionError(error)}\n` : `bench: ${(error as Error).message}\n`,
      );
      process.exit(1);
    },
  );
}
