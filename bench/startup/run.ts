// `npm run bench:startup`: start-up time and resident memory of one service (the gateway) run from TypeScript
// source, as `npm start` runs it (ts-node transpile-only, tsconfig-paths), against the compiled JavaScript the
// image runs (`node dist/...`, built first by the npm script), in the same run on the same machine. Start-up is
// from the process's spawn to its first 200 on /health/ready; resident memory (VmRSS) is read at that moment.
// Everything runs locally: a broker of its own (secured, the gateway as its own principal), a fresh database, one
// gateway process at a time. One unmeasured start of each warms the disk cache and runs the migrations; then each
// run starts both, which first alternating, so the drift of a shared machine hits both alike.
// Results: bench/results/startup.json. BENCH_STARTUP_RUNS (default 7), BENCH_KAFKA_PORT and BENCH_HTTP_PORT pick
// the runs and the ports (free ones by default).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaClientOptions, kafkaEnv } from '@tributary/config';
import { catalogFor, topicCatalog } from '@tributary/contracts';
import { applyServiceAcls, startKafka, type RunningKafka } from '@tributary/kafka-provisioner';
import { dropDatabase, ensurePostgres, withDatabase } from '@tributary/local-stack';
import { ensureTopics } from '@tributary/messaging';
import { startServiceProcess } from '@tributary/testing';
import { compiledMain, LOCAL_SERVICES } from '../../deploy/local/src/services';
import { freeBrokerPort } from '../../services/gateway/test/gateway-harness';
import { benchMachine, benchProvenance } from '../with-broker';

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 7);
const RESULTS = path.resolve(__dirname, '../results/startup.json');
const ROOT = path.resolve(__dirname, '../..');
const KAFKA_NAME = 'bench-startup';
const TOPIC_PREFIX = 'bench.';
const SERVICE = LOCAL_SERVICES.find((service) => service.name === 'gateway')!;
/** How the gateway runs: from source as `npm start` does, and compiled as the image does. */
const MODES = { source: SERVICE.main, compiled: compiledMain(SERVICE) } as const;
type Mode = keyof typeof MODES;
const READY_WAIT_MS_MAX = 120_000;
const POLL_INTERVAL_MS = 20;
const PROBE_TIMEOUT_MS = 1_000;

const say = (line: string) => process.stdout.write(`bench:startup ${line}\n`);

interface Start {
  readonly readyMs: number;
  readonly rssMiB: number;
}

async function freeHttpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** VmRSS of a process from /proc, in MiB (Linux only, as the other benchmarks' CPU figures). */
function residentMiB(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(line[1]) / 1024;
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** One start of the gateway: spawn, poll /health/ready until 200, read its RSS, stop it with SIGTERM. */
async function startOnce(mode: Mode, env: Record<string, string>, port: number): Promise<Start> {
  const startedMs = performance.now();
  const gateway = startServiceProcess(MODES[mode], { ...env, GATEWAY_HTTP_PORT: String(port) }, `startup-${mode}`);
  try {
    const url = `http://127.0.0.1:${port}/health/ready`;
    while (!(await isReady(url))) {
      if (gateway.child.exitCode !== null)
        throw new Error(`the ${mode} gateway exited:\n${gateway.output().slice(-3_000)}`);
      if (performance.now() - startedMs > READY_WAIT_MS_MAX) {
        throw new Error(
          `the ${mode} gateway was not ready in ${READY_WAIT_MS_MAX} ms:\n${gateway.output().slice(-3_000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    const readyMs = performance.now() - startedMs;
    return { readyMs, rssMiB: residentMiB(gateway.child.pid!) };
  } finally {
    await gateway.stop();
  }
}

function figure(values: readonly number[], unit: string, decimals = 0) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;
  return {
    median: round(sorted[Math.floor(sorted.length / 2)]!),
    min: round(sorted[0]!),
    max: round(sorted[sorted.length - 1]!),
    unit,
  };
}

/** Per run, how much the compiled start saves on the source one, in % of the source's. */
function saving(source: readonly Start[], compiled: readonly Start[], of: (start: Start) => number) {
  return figure(
    source.map((run, index) => (1 - of(compiled[index]!) / of(run)) * 100),
    '%',
    1,
  );
}

async function main(): Promise<void> {
  for (const main of Object.values(MODES)) {
    if (!existsSync(path.join(ROOT, main))) throw new Error(`${main} is missing: run \`npm run build\` first`);
  }
  const kafkaPort = process.env.BENCH_KAFKA_PORT ? Number(process.env.BENCH_KAFKA_PORT) : await freeBrokerPort();
  const httpPort = process.env.BENCH_HTTP_PORT ? Number(process.env.BENCH_HTTP_PORT) : await freeHttpPort();
  const kafka = await startKafka({ port: kafkaPort, name: KAFKA_NAME, log: say });
  const databaseUrl = withDatabase(
    new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tributary'),
    `bench_startup_${Date.now().toString(36)}`,
  );
  try {
    await prepareTopics(kafka);
    await ensurePostgres(databaseUrl);
    const env = {
      ...kafka.clientEnv('gateway'),
      DATABASE_URL: databaseUrl,
      TRIBUTARY_TOPIC_PREFIX: TOPIC_PREFIX,
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'log',
    };
    for (const mode of ['source', 'compiled'] as const) {
      const warm = await startOnce(mode, env, httpPort);
      say(`warm-up ${mode}: ready in ${Math.round(warm.readyMs)} ms, ${warm.rssMiB.toFixed(1)} MiB`);
    }
    const starts: Record<Mode, Start[]> = { source: [], compiled: [] };
    for (let run = 1; run <= RUNS; run += 1) {
      const order: Mode[] = run % 2 === 1 ? ['source', 'compiled'] : ['compiled', 'source'];
      for (const mode of order) {
        const start = await startOnce(mode, env, httpPort);
        starts[mode].push(start);
        say(`run ${run} ${mode}: ready in ${Math.round(start.readyMs)} ms, ${start.rssMiB.toFixed(1)} MiB`);
      }
    }
    const results = {
      name: 'startup',
      ...benchProvenance(),
      machine: benchMachine('shared 2-core machine; broker, PostgreSQL and the service on the same host'),
      runs: RUNS,
      setup: {
        service: SERVICE.name,
        source: `node -r ts-node/register/transpile-only -r tsconfig-paths/register ${MODES.source} (npm start)`,
        compiled: `node ${MODES.compiled} (the image; npm run build first)`,
        startup: 'from spawn to the first 200 on GET /health/ready, polled every 20 ms',
        rss: 'VmRSS of the service process when it first answered ready',
        stack: `one KRaft broker (${kafka.security}), local PostgreSQL (migrations already run), one gateway at a time, 2 cores shared with everything`,
      },
      figures: {
        startup_source: figure(
          starts.source.map((start) => start.readyMs),
          'ms',
        ),
        startup_compiled: figure(
          starts.compiled.map((start) => start.readyMs),
          'ms',
        ),
        startup_saved: saving(starts.source, starts.compiled, (start) => start.readyMs),
        rss_source: figure(
          starts.source.map((start) => start.rssMiB),
          'MiB',
          1,
        ),
        rss_compiled: figure(
          starts.compiled.map((start) => start.rssMiB),
          'MiB',
          1,
        ),
        rss_saved: saving(starts.source, starts.compiled, (start) => start.rssMiB),
      },
    };
    mkdirSync(path.dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    say(`wrote ${RESULTS}`);
    say(JSON.stringify(results.figures));
  } finally {
    await kafka.stop();
    rmSync(kafka.dataDir, { recursive: true, force: true });
    await dropDatabase(databaseUrl).catch(() => undefined);
  }
}

/** The operator creates the topic catalog and grants the services' ACLs: the gateway may create no topic. */
async function prepareTopics(kafka: RunningKafka): Promise<void> {
  const operator = kafkaEnv(kafka.clientEnv('operator'));
  const admin = new Kafka({ ...kafkaClientOptions(operator, KAFKA_NAME), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topicCatalog(catalogFor(TOPIC_PREFIX)), 1);
  } finally {
    await admin.disconnect();
  }
  if (kafka.security === 'sasl_ssl') await applyServiceAcls(KAFKA_NAME, TOPIC_PREFIX);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:startup: ${(error as Error).stack}\n`);
  process.exit(1);
});
