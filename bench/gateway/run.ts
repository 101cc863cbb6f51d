// `npm run bench:gateway`: accepted events/s and latency of the gateway on this machine, for single
// events at a fixed arrival rate (open loop: latency counts from when a request was due, so a gateway
// that falls behind is not flattered) and for batches (closed loop). Everything runs locally: a broker
// of its own, a fresh database, one gateway process; the load goes only to 127.0.0.1 and every phase is
// bounded in count and time. Kafka is secured as the product runs it (unless KAFKA_SECURITY=plaintext):
// the gateway as its own principal, with the access catalog's ACLs. Results: bench/results/gateway.json.
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { kafkaClientOptions, kafkaEnv } from '@tributary/config';
import { catalogFor, topicCatalog } from '@tributary/contracts';
import { applyServiceAcls, startKafka, type RunningKafka } from '@tributary/kafka-provisioner';
import { ensureTopics } from '@tributary/messaging';
import { dropDatabase, ensurePostgres, withDatabase } from '@tributary/local-stack';
import { ensureSchema } from '@tributary/persistence';
import { ECONOMY_DEFAULTS, takeEvents } from '@tributary/simulator';
import { startServiceProcess } from '@tributary/testing';
import { ApiKeyRepository } from '../../services/gateway/src/auth/api-key.store';
import { dataSourceOptions, GATEWAY_SCHEMA } from '../../services/gateway/src/database/data-source-options';
import { freeBrokerPort } from '../../services/gateway/test/gateway-harness';
import { benchMachine, benchProvenance, cpuSecondsOf } from '../with-broker';

const RUNS = Number(process.env.BENCH_GATEWAY_RUNS ?? 3);
const PHASES = new Set((process.env.BENCH_GATEWAY_PHASES ?? 'single,batch').split(','));
const SINGLE_RATE_PER_S = 1_000;
const SINGLE_REQUESTS = Number(process.env.BENCH_GATEWAY_SINGLES ?? 10_000); // 10 s at 1,000/s
const BATCH_EVENTS = 500;
const BATCHES = 60; // 30,000 events
const BATCH_CONCURRENCY = 4;
const PHASE_TIME_MAX_MS = 60_000;
const IN_FLIGHT_MAX = 512;
const RESULTS = path.resolve(__dirname, '../results/gateway.json');
const KAFKA_NAME = 'bench-gateway';
const TOPIC_PREFIX = 'bench.';

const say = (line: string) => process.stdout.write(`bench:gateway ${line}\n`);
const toJson = (value: unknown) =>
  JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));

interface Phase {
  readonly acceptedPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

// node:http with keep-alive rather than fetch: the load generator shares the machine's two cores with the
// gateway, the broker and PostgreSQL, and fetch costs several times more CPU per request.
const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT_MAX });

function postJson(url: string, body: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        timeout: 30_000,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${key}`,
        },
      },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
        response.once('error', reject);
      },
    );
    request.once('timeout', () => request.destroy(new Error('timed out')));
    request.once('error', reject);
    request.end(body);
  });
}

/** Singles at a fixed rate; each latency runs from the moment the request was due. */
async function singlePhase(baseUrl: string, key: string, runId: string, requests = SINGLE_REQUESTS): Promise<Phase> {
  const bodies = takeEvents({ ...ECONOMY_DEFAULTS, seed: 11, runId, startTimeMs: 1_760_000_000_000n }, requests).map(
    (event) => ({ url: `${baseUrl}/events/${event.type}`, body: toJson(event.data) }),
  );
  const latencies: number[] = [];
  let failed = 0;
  // Why requests failed, counted by answer, so a failure in the figures can be explained from the log.
  const failures = new Map<string, number>();
  const fail = (why: string) => {
    failed += 1;
    failures.set(why, (failures.get(why) ?? 0) + 1);
  };
  const inFlight = new Set<Promise<void>>();
  const startedMs = performance.now();
  for (let index = 0; index < bodies.length && performance.now() - startedMs < PHASE_TIME_MAX_MS; index += 1) {
    const dueMs = startedMs + (index * 1_000) / SINGLE_RATE_PER_S;
    const waitMs = dueMs - performance.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    while (inFlight.size >= IN_FLIGHT_MAX) await Promise.race(inFlight);
    const request: Promise<void> = postJson(bodies[index]!.url, bodies[index]!.body, key)
      .then((status) => (status === 202 ? void latencies.push(performance.now() - dueMs) : fail(`HTTP ${status}`)))
      .catch((error: unknown) => fail((error as Error).message))
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  const elapsedS = (performance.now() - startedMs) / 1_000;
  if (failed > 0) say(`single phase: ${failed} failed: ${JSON.stringify(Object.fromEntries(failures))}`);
  latencies.sort((a, b) => a - b);
  return {
    acceptedPerS: latencies.length / elapsedS,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    failed,
  };
}

/** Batches of BATCH_EVENTS, BATCH_CONCURRENCY at a time, as fast as the gateway acknowledges them. */
async function batchPhase(baseUrl: string, key: string, runId: string): Promise<Phase> {
  const events = takeEvents(
    { ...ECONOMY_DEFAULTS, seed: 12, runId, startTimeMs: 1_760_000_000_000n },
    BATCH_EVENTS * BATCHES,
  );
  const bodies = Array.from({ length: BATCHES }, (_, index) =>
    toJson({ events: events.slice(index * BATCH_EVENTS, (index + 1) * BATCH_EVENTS) }),
  );
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const startedMs = performance.now();
  const worker = async () => {
    while (next < bodies.length && performance.now() - startedMs < PHASE_TIME_MAX_MS) {
      const body = bodies[next++]!;
      const sentMs = performance.now();
      const status = await postJson(`${baseUrl}/events/batch`, body, key).catch(() => 0);
      if (status === 202) latencies.push(performance.now() - sentMs);
      else failed += 1;
    }
  };
  await Promise.all(Array.from({ length: BATCH_CONCURRENCY }, worker));
  const elapsedS = (performance.now() - startedMs) / 1_000;
  latencies.sort((a, b) => a - b);
  return {
    acceptedPerS: (latencies.length * BATCH_EVENTS) / elapsedS,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    failed,
  };
}

function figure(values: readonly number[], unit: string, decimals = 1) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;
  return {
    median: round(sorted[Math.floor(sorted.length / 2)]!),
    min: round(sorted[0]!),
    max: round(sorted[sorted.length - 1]!),
    unit,
  };
}

async function main(): Promise<void> {
  installKafkaWireFastPaths();
  const port = process.env.BENCH_KAFKA_PORT ? Number(process.env.BENCH_KAFKA_PORT) : await freeBrokerPort();
  const kafka = await startKafka({ port, name: KAFKA_NAME, log: say });
  await prepareTopics(kafka);
  const databaseUrl = withDatabase(
    new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tributary'),
    `bench_gateway_${Date.now().toString(36)}`,
  );
  await ensurePostgres(databaseUrl);
  await ensureSchema(databaseUrl, GATEWAY_SCHEMA);
  const dataSource = await new DataSource({ ...dataSourceOptions(databaseUrl, 2), logging: ['error'] }).initialize();
  const key = (
    await new ApiKeyRepository(dataSource).create({
      producerId: 'bench',
      eventTypes: ['*'],
      datanetIds: ['*'],
      modelIds: ['*'],
    })
  ).key;
  await dataSource.destroy();
  const gateway = startServiceProcess(
    'services/gateway/src/main.ts',
    {
      ...kafka.clientEnv('gateway'),
      DATABASE_URL: databaseUrl,
      TRIBUTARY_TOPIC_PREFIX: TOPIC_PREFIX,
      GATEWAY_HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'log',
      // BENCH_CPU_PROF_DIR=<dir> writes a V8 CPU profile of the gateway process (on its SIGTERM exit) there.
      // BENCH_SERVICE_NODE_OPTIONS passes Node/V8 options to the gateway process, for A/B runs.
      ...(process.env.BENCH_CPU_PROF_DIR || process.env.BENCH_SERVICE_NODE_OPTIONS
        ? {
            NODE_OPTIONS: [
              process.env.BENCH_SERVICE_NODE_OPTIONS ?? '',
              process.env.BENCH_CPU_PROF_DIR ? `-r ${path.resolve(__dirname, '../attribution/cpu-profile.js')}` : '',
            ]
              .join(' ')
              .trim(),
            ...(process.env.BENCH_CPU_PROF_DIR
              ? { BENCH_CPU_PROF_DIR: path.resolve(process.env.BENCH_CPU_PROF_DIR) }
              : {}),
          }
        : {}),
    },
    'gateway-bench',
  );
  /** Runs a phase and adds the gateway process's CPU time per accepted event. */
  const measured = async (phase: () => Promise<Phase>): Promise<Phase & { gatewayCpuMsPerEvent: number }> => {
    const cpuBefore = cpuSecondsOf(gateway.child.pid);
    const startedMs = performance.now();
    const result = await phase();
    const events = result.acceptedPerS * ((performance.now() - startedMs) / 1_000);
    return {
      ...result,
      gatewayCpuMsPerEvent:
        Math.round(((cpuSecondsOf(gateway.child.pid) - cpuBefore) * 1_000 * 1_000) / Math.max(1, events)) / 1_000,
    };
  };
  try {
    const baseUrl = await waitForGateway(gateway.output);
    // Three seconds at the single rate: the first second after start-up still runs unoptimized code and
    // opens the load generator's connections, which is start-up, not the steady state measured here.
    say(`gateway at ${baseUrl}; warming up`);
    await singlePhase(baseUrl, key, `warm${Date.now().toString(36)}`, 3 * SINGLE_RATE_PER_S).catch(() => undefined);
    const singles: Array<Phase & { gatewayCpuMsPerEvent: number }> = [];
    const batches: Array<Phase & { gatewayCpuMsPerEvent: number }> = [];
    for (let run = 1; run <= RUNS; run += 1) {
      if (PHASES.has('single')) {
        singles.push(await measured(() => singlePhase(baseUrl, key, `single${run}x${Date.now().toString(36)}`)));
        say(`run ${run} single: ${JSON.stringify(singles.at(-1))}`);
      }
      if (PHASES.has('batch')) {
        batches.push(await measured(() => batchPhase(baseUrl, key, `batch${run}x${Date.now().toString(36)}`)));
        say(`run ${run} batch:  ${JSON.stringify(batches.at(-1))}`);
      }
    }
    if (PHASES.size < 2 || RUNS < 3) {
      say('a partial run (BENCH_GATEWAY_PHASES / BENCH_GATEWAY_RUNS): results not written');
      return;
    }
    const results = {
      name: 'gateway',
      ...benchProvenance(),
      machine: benchMachine(
        'shared 2-core machine; broker, PostgreSQL, the gateway and the load generator on the same host',
      ),
      runs: RUNS,
      setup: {
        single: `${SINGLE_REQUESTS} POST /events/<type> at ${SINGLE_RATE_PER_S}/s open loop (latency from the due time), events from the simulator`,
        batch: `${BATCHES} POST /events/batch of ${BATCH_EVENTS} events, ${BATCH_CONCURRENCY} in flight, one Kafka transaction each`,
        stack: `one KRaft broker (${kafka.security}), local PostgreSQL, one gateway process, load generator in the same machine (2 cores shared with everything)`,
      },
      figures: {
        single_accepted: figure(
          singles.map((phase) => phase.acceptedPerS),
          'events/s',
        ),
        single_latency_p50: figure(
          singles.map((phase) => phase.p50Ms),
          'ms',
        ),
        single_latency_p99: figure(
          singles.map((phase) => phase.p99Ms),
          'ms',
        ),
        single_failed: figure(
          singles.map((phase) => phase.failed),
          'requests',
        ),
        single_gateway_cpu_per_event: figure(
          singles.map((phase) => phase.gatewayCpuMsPerEvent),
          'ms',
          3,
        ),
        batch_accepted: figure(
          batches.map((phase) => phase.acceptedPerS),
          'events/s',
        ),
        batch_latency_p50: figure(
          batches.map((phase) => phase.p50Ms),
          'ms',
        ),
        batch_latency_p99: figure(
          batches.map((phase) => phase.p99Ms),
          'ms',
        ),
        batch_failed: figure(
          batches.map((phase) => phase.failed),
          'requests',
        ),
        batch_gateway_cpu_per_event: figure(
          batches.map((phase) => phase.gatewayCpuMsPerEvent),
          'ms',
          3,
        ),
      },
    };
    mkdirSync(path.dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    say(`wrote ${RESULTS}`);
    say(JSON.stringify(results.figures));
  } finally {
    await gateway.stop();
    await kafka.stop();
    rmSync(kafka.dataDir, { recursive: true, force: true });
    await dropDatabase(databaseUrl).catch(() => undefined);
  }
}

/**
 * The operator creates the topic catalog and grants the services' ACLs, as in production: the gateway's
 * principal may not create topics, and a secured broker refuses it everything the catalog does not grant.
 */
async function prepareTopics(kafka: RunningKafka): Promise<void> {
  const operator = kafkaEnv(kafka.clientEnv('operator'));
  const admin = new Kafka({ ...kafkaClientOptions(operator, 'bench-gateway'), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topicCatalog(catalogFor(TOPIC_PREFIX)), 1);
  } finally {
    await admin.disconnect();
  }
  if (kafka.security === 'sasl_ssl') await applyServiceAcls(KAFKA_NAME, TOPIC_PREFIX);
}

async function waitForGateway(output: () => string): Promise<string> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const match = /gateway ready at (http:\/\/[^ \u001b]+)/.exec(output());
    if (match) return match[1]!.replace('[::1]', '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the gateway did not start:\n${output().slice(-3_000)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:gateway: ${(error as Error).stack}\n`);
  process.exit(1);
});
