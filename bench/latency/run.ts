// `npm run bench:latency`: how long an event takes from the gateway's acknowledgement to the ledger, at a
// steady 1,000 events/s, beside Kafka's own end-to-end latency on the same broker in the same run (the
// floor no pipeline on that broker can beat). Everything runs on this machine, as the product runs it: a
// secured broker of its own, a fresh database with a role per service, and the gateway, the attribution
// service, the ledger projector and the ledger API as processes of their own.
//
// Traffic is the simulator's, open loop (each request is sent when it is due, whatever came back), ten
// events per POST /events/batch (BENCH_LATENCY_BATCH=1 sends each alone, as the simulator does by default;
// at 1,000 requests/s the gateway alone would take most of one of this machine's two cores), at each of
// BENCH_LATENCY_RATES (1000,250 events/s) in turn:
// nine events in ten are paid inferences of one economy, the tenth a table record (a datanet,
// contribution or model of a new economy), so the attribution service's tables move under the inferences
// as in production. Every inference is followed from its 202 to:
//   decided  its decision is readable on the attributions topic (read_committed, as the projector reads)
//   ledger   the ledger holds it: the projector's position stored in the ledger's transaction passed
//            its decision, read every LEDGER_POLL_MS (so the figure has that resolution)
//   api      for one inference in API_PROBE_EVERY: GET /v1/freshness itself says reflected, asked as a
//            client would with an operator read credential and waitMs=FRESHNESS_WAIT_MS (the API holds
//            the request until the ledger reflects the inference; asked again only past that)
// and each stage is read from the records' own times: attribution (the broker's append time of the
// inference to the decision's creation time), commit (to the decision readable: the Kafka transaction),
// projection (to the ledger). While the load is sent the benchmark reads only the attributions topic;
// the inferences' append times are read after each run, from the positions the gateway acknowledged.
// Kafka's floor is its EndToEndLatency tool (produce with acks=all, consume, one record at a time) on the
// same broker, secured the same way, run between the pipeline's runs.
// Everything runs on a Node line the project supports: started on another, the benchmark runs itself again
// on the pinned Node 24 (onSupportedNode).
// Results: bench/results/latency.json. BENCH_LATENCY_RUNS (3), BENCH_LATENCY_SECONDS (20) and
// BENCH_LATENCY_WARMUP_SECONDS (60, at the lowest rate, unmeasured) size it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { Client } from 'pg';
import { kafkaClientOptions, kafkaEnv, localBrokerFiles } from '@tributary/config';
import { CONSUMER_GROUPS, OPERATOR_PRINCIPAL, TOPICS, topicPrefix } from '@tributary/contracts';
import { applyServiceAcls, runKafkaCli, startKafka, stopKafka, type RunningKafka } from '@tributary/kafka-provisioner';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { ECONOMY_DEFAULTS, simulateEconomy, type SimulatedEvent } from '@tributary/simulator';
import { FROM_SOURCE_NODE_ARGS, startServiceProcess, type ServiceProcess } from '@tributary/testing';
import { dropDatabase, ensurePostgres, withDatabase } from '../../deploy/local/src';
import { prepareBroker } from '../../deploy/local/src/broker-ready';
import { runOwnerSteps } from '../../deploy/local/src/owner-steps';
import { LOCAL_SERVICES } from '../../deploy/local/src/services';
import { PINNED_NODE_LINES, pinnedNode, pinnedNodeEnv, pinnedNodeVersion } from '../../deploy/node/pinned-node';
import { ApiKeyRepository } from '../../services/gateway/src/auth/api-key.store';
import { dataSourceOptions } from '../../services/gateway/src/database/data-source-options';
import { issueReadCredential } from '../../services/ledger-api/src/database/credentials';
import { freeBrokerPort } from '../../services/gateway/test/gateway-harness';
import { benchMachine, benchProvenance, cpuSecondsOf } from '../with-broker';
import { DataSource } from 'typeorm';

const RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 3);
const RUN_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 20);
/** The rates measured side by side in one run, events/s: the target, and one this machine carries with room. */
const RATES_PER_S = (process.env.BENCH_LATENCY_RATES ?? '1000,250').split(',').map(Number);
/** Events per request: 1 sends each as it happens (POST /events/<type>), more use POST /events/batch. */
const BATCH_EVENTS = Number(process.env.BENCH_LATENCY_BATCH ?? 10);
/**
 * A freshly started broker spends most of its first minute compiling (the JVM's JIT threads took half of
 * its CPU in a 5 s warm-up) and the services compile theirs too: the warm-up runs the lowest rate this
 * long first, so the runs measure the pipeline, not its start.
 */
const WARMUP_SECONDS = Number(process.env.BENCH_LATENCY_WARMUP_SECONDS ?? 60);
const WARMUP_RATE_PER_S = Math.min(...RATES_PER_S);
/** One event in TABLE_EVERY is a table record; the rest are inferences. */
const TABLE_EVERY = 10;
const API_PROBE_EVERY = 50;
const LEDGER_POLL_MS = 5;
const FRESHNESS_WAIT_MS = 10_000;
/** An inference not in the ledger this long after its 202 counts as lost and fails the run. */
const FOLLOW_TIMEOUT_MS = 30_000;
/** How long reading a run's inferences back for their append times may take. */
const APPEND_TIMES_TIMEOUT_MS = 60_000;
const IN_FLIGHT_MAX = 512;
const E2E_RECORDS = 2_000;
const E2E_RECORD_BYTES = 700;
const RESULTS = path.resolve(__dirname, '../results/latency.json');
const KAFKA_NAME = 'bench-latency';
const SERVICES = ['gateway', 'attribution', 'ledger-projector', 'ledger-api'] as const;
type ServiceName = (typeof SERVICES)[number];

const say = (line: string) => process.stdout.write(`bench:latency ${line}\n`);
const toJson = (value: unknown) =>
  JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

interface Tail {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

function tail(values: readonly number[]): Tail {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    count: sorted.length,
  };
}

// node:http with keep-alive: the load generator shares two cores with everything it measures.
const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT_MAX });

function request(
  url: string,
  options: { method: 'GET' | 'POST'; body?: string; token: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const call = http.request(
      url,
      {
        method: options.method,
        agent,
        timeout: 30_000,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(options.body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) }),
        },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.once('error', reject);
      },
    );
    call.once('timeout', () => call.destroy(new Error('timed out')));
    call.once('error', reject);
    call.end(options.body);
  });
}

/** The events of one run: inferences of economy `runId`, and every TABLE_EVERY-th a table record of a fresh economy. */
function* traffic(runId: string): Generator<SimulatedEvent> {
  const startTimeMs = BigInt(Date.now() - 60_000);
  const inferences = simulateEconomy({ ...economy, seed: 21, runId, startTimeMs });
  // The economy's own tables first, unmeasured (setup() sends them): here only its inferences.
  let next = inferences.next().value;
  while (next.type !== 'InferenceCompleted') next = inferences.next().value;
  let tableEconomy = 0;
  let tables = simulateEconomy({ ...economy, seed: 22, runId: `${runId}t0`, startTimeMs });
  for (let index = 1; ; index += 1) {
    if (index % TABLE_EVERY === 0) {
      let table = tables.next().value;
      if (table.type === 'InferenceCompleted') {
        tableEconomy += 1;
        tables = simulateEconomy({
          ...economy,
          seed: 22 + tableEconomy,
          runId: `${runId}t${tableEconomy}`,
          startTimeMs,
        });
        table = tables.next().value;
      }
      yield table;
    } else {
      yield next;
      next = inferences.next().value;
    }
  }
}

const economy = ECONOMY_DEFAULTS;

function setupEvents(runId: string): SimulatedEvent[] {
  const events: SimulatedEvent[] = [];
  for (const event of simulateEconomy({ ...economy, seed: 21, runId, startTimeMs: BigInt(Date.now() - 60_000) })) {
    if (event.type === 'InferenceCompleted') return events;
    events.push(event);
  }
  return events;
}

/** When one inference passed each point, in wall-clock ms (every process runs on this machine's clock). */
interface Followed {
  readonly ackAtMs: number;
  ledgerAtMs?: number;
  apiAtMs?: number;
}

/** What the topics say of each inference: the broker's append time, the decision's creation, when it was readable. */
interface Seen {
  /** Read after each run (readAppendTimes): reading the inferences while the load is sent loaded the broker. */
  readonly appendedAtMs: Map<string, number>;
  readonly decisionCreatedAtMs: Map<string, number>;
  readonly decidedAtMs: Map<string, number>;
  /** Where each decision sits on the attributions topic: the ledger holds it once the projector's stored offset passed it. */
  readonly decisionAt: Map<string, { readonly partition: number; readonly offset: bigint }>;
}

/**
 * CPU seconds the PostgreSQL server's processes used so far: every one alive, and the backends that
 * ended, through the postmaster that reaped them.
 */
function postgresBusySeconds(): number {
  let seconds = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue; // The process ended while it was read.
    }
    const used = comm === 'postgres' ? cpuSecondsOf(Number(entry), { reapedChildren: true }) : Number.NaN;
    if (!Number.isNaN(used)) seconds += used;
  }
  return seconds;
}

/** CPU seconds the whole machine spent busy so far (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const [, ...times] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = times.map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/** What the gateway answers for each event it accepted. */
interface PublishAck {
  readonly partition: number;
  readonly offset: string;
}

interface RunResult {
  readonly ackMs: Tail;
  readonly decidedMs: Tail;
  readonly ledgerMs: Tail;
  readonly apiMs: Tail;
  /** Stages, each from the end of the one before: the broker's append to the decision made (the attribution service), to readable (its Kafka transaction), to the ledger (the projector). */
  readonly attributionStageMs: Tail;
  readonly commitStageMs: Tail;
  readonly projectionStageMs: Tail;
  readonly sentPerS: number;
  readonly failed: number;
  readonly lost: number;
  readonly coresBusy: Readonly<Record<string, number>>;
}

/** The benchmark's own Kafka client, as the operator. */
function operatorClient(kafka: RunningKafka, clientId: string): Kafka {
  return new Kafka({
    ...kafkaClientOptions(kafkaEnv(kafka.clientEnv(OPERATOR_PRINCIPAL)), clientId),
    logLevel: logLevel.NOTHING,
  });
}

/**
 * Reads the attributions topic as the projector does (read_committed) and notes, per inference id (the
 * key), the decision record's creation time (the attribution service's clock when it produced it), when
 * the decision became readable here, and where it sits. The inferences topic is not read while the load
 * is sent: it was the broker's largest read (about 2 MB/s of TLS at 1,000 events/s), the measurement's
 * load rather than the pipeline's; readAppendTimes reads the append times after each run.
 */
async function topicWatcher(kafka: RunningKafka, seen: Seen): Promise<Consumer> {
  const consumer = operatorClient(kafka, 'bench-latency-watcher').consumer({
    groupId: `bench-latency-watcher-${Date.now()}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPICS.attributions.name], fromBeginning: false });
  await consumer.run({
    // A throwaway group that nothing resumes: committing its offsets after every batch (kafkajs's
    // default) cost the broker a hundred OffsetCommits a second that no pipeline stage makes.
    autoCommit: false,
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      const atMs = Date.now();
      for (const message of batch.messages) {
        const key = message.key?.toString() ?? '';
        if (seen.decidedAtMs.has(key)) continue;
        seen.decidedAtMs.set(key, atMs);
        seen.decisionCreatedAtMs.set(key, Number(message.timestamp));
        seen.decisionAt.set(key, { partition: batch.partition, offset: BigInt(message.offset) });
      }
    },
  });
  return consumer;
}

/**
 * The broker's append time (LogAppendTime) of each inference, read back from the positions the gateway
 * acknowledged, once the run is over: a consumer of its own seeks every partition to the run's first
 * acknowledged offset and reads to its last.
 */
async function readAppendTimes(
  kafka: RunningKafka,
  positions: ReadonlyMap<string, PublishAck>,
  into: Map<string, number>,
): Promise<void> {
  const ranges = new Map<number, { from: bigint; to: bigint }>();
  for (const { partition, offset } of positions.values()) {
    const at = BigInt(offset);
    const range = ranges.get(partition);
    ranges.set(partition, {
      from: range === undefined || at < range.from ? at : range.from,
      to: range === undefined || at > range.to ? at : range.to,
    });
  }
  if (ranges.size === 0) return;
  const consumer = operatorClient(kafka, 'bench-latency-append-times').consumer({
    groupId: `bench-latency-append-times-${Date.now()}`,
    maxWaitTimeInMs: 100,
  });
  const read = new Set<number>();
  let allRead!: () => void;
  const done = new Promise<void>((resolve) => (allRead = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [TOPICS.inferences.name], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = ranges.get(batch.partition);
        if (range === undefined) return;
        for (const message of batch.messages) {
          const key = message.key?.toString() ?? '';
          if (positions.has(key)) into.set(key, Number(message.timestamp));
          if (BigInt(message.offset) >= range.to) read.add(batch.partition);
        }
        if (read.size === ranges.size) allRead();
      },
    });
    for (const [partition, { from }] of ranges)
      consumer.seek({ topic: TOPICS.inferences.name, partition, offset: from.toString() });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, APPEND_TIMES_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (read.size < ranges.size)
      say(
        `append times: ${ranges.size - read.size} inference partitions not read back within ${APPEND_TIMES_TIMEOUT_MS} ms; the attribution stage counts only the inferences read`,
      );
  } finally {
    await consumer.disconnect();
  }
}

async function oneRun(
  kafka: RunningKafka,
  events: Iterator<SimulatedEvent>,
  urls: Record<ServiceName, string>,
  gatewayKey: string,
  readCredential: string,
  ledgerSql: Client,
  seen: Seen,
  seconds: number,
  pids: Readonly<Record<string, number | undefined>>,
  ratePerS: number,
): Promise<RunResult> {
  const cpuOf = (): Record<string, number> => ({
    ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)])),
    'bench:latency': process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
    postgresql: postgresBusySeconds(),
    machine: machineBusySeconds(),
  });
  const cpuBefore = cpuOf();
  const followed = new Map<string, Followed>();
  /** Where the gateway said each inference was appended: its append time is read there after the run. */
  const positions = new Map<string, PublishAck>();
  /** Inferences acknowledged and not yet seen in the ledger. */
  const waiting = new Set<string>();
  const total = ratePerS * seconds;
  let failed = 0;
  const ackMs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const apiProbes: Array<Promise<void>> = [];
  let inferenceCount = 0;
  let failedRequests = 0;
  let polling = true;
  // The ledger's side: the projector stores its position in the ledger's transaction, so a decision is in
  // the ledger once the stored offset of its partition passed it. One query of six rows a tick, whatever
  // is in flight: a query naming every inference in flight would load PostgreSQL with the measurement.
  const poller = (async () => {
    while (polling) {
      const atMs = Date.now();
      if (waiting.size > 0) {
        const { rows } = await ledgerSql.query<{ partition: number; next_offset: string }>(
          'SELECT partition, next_offset FROM ledger.consumer_offsets WHERE group_id = $1 AND topic = $2',
          [CONSUMER_GROUPS.ledgerProjector, TOPICS.attributions.name],
        );
        const stored = new Map(rows.map((row) => [row.partition, BigInt(row.next_offset)]));
        for (const inferenceId of waiting) {
          const at = seen.decisionAt.get(inferenceId);
          if (at === undefined || (stored.get(at.partition) ?? 0n) <= at.offset) continue;
          followed.get(inferenceId)!.ledgerAtMs = atMs;
          waiting.delete(inferenceId);
        }
      }
      await sleep(LEDGER_POLL_MS - (Date.now() - atMs));
    }
  })();
  const followApi = async (inferenceId: string, partition: number, offset: string) => {
    const query = new URLSearchParams({
      topic: TOPICS.inferences.name,
      partition: String(partition),
      offset,
      inferenceId,
      waitMs: String(FRESHNESS_WAIT_MS),
    });
    const deadline = Date.now() + FOLLOW_TIMEOUT_MS;
    while (Date.now() < deadline) {
      // A keep-alive socket the server closed as it was reused: GET is safe to ask again.
      const answer = await request(`${urls['ledger-api']}/v1/freshness?${query.toString()}`, {
        method: 'GET',
        token: readCredential,
      }).catch((error: Error) => ({ status: 0, body: error.message }));
      if (answer.status === 0) continue;
      if (answer.status !== 200) throw new Error(`GET /v1/freshness answered ${answer.status}: ${answer.body}`);
      if ((JSON.parse(answer.body) as { reflected: boolean }).reflected) {
        followed.get(inferenceId)!.apiAtMs = Date.now();
        return;
      }
    }
  };
  const startedMs = performance.now();
  for (let index = 0; index < total; index += BATCH_EVENTS) {
    const dueMs = startedMs + (index * 1_000) / ratePerS;
    const waitMs = dueMs - performance.now();
    if (waitMs > 1) await sleep(waitMs);
    while (inFlight.size >= IN_FLIGHT_MAX) await Promise.race(inFlight);
    const unit = Array.from({ length: BATCH_EVENTS }, () => events.next().value as SimulatedEvent);
    // One event: its type's endpoint, as a producer sending as events happen; more: the batch endpoint.
    const [url, body] =
      unit.length === 1
        ? [`${urls.gateway}/events/${unit[0]!.type}`, toJson(unit[0]!.data)]
        : [`${urls.gateway}/events/batch`, toJson({ events: unit })];
    const sent: Promise<void> = request(url, { method: 'POST', body, token: gatewayKey })
      .then((answer) => {
        const atMs = Date.now();
        if (answer.status !== 202) {
          failed += unit.length;
          if (++failedRequests <= 3) say(`POST answered ${answer.status}: ${answer.body.slice(0, 300)}`);
          return;
        }
        const parsed = JSON.parse(answer.body) as PublishAck | { results: PublishAck[] };
        const acks = 'results' in parsed ? parsed.results : [parsed];
        unit.forEach((event, position) => {
          ackMs.push(performance.now() - dueMs);
          if (event.type !== 'InferenceCompleted') return;
          const inferenceId = event.data.inferenceId;
          const ack = acks[position]!;
          followed.set(inferenceId, { ackAtMs: atMs });
          positions.set(inferenceId, ack);
          waiting.add(inferenceId);
          if (++inferenceCount % API_PROBE_EVERY !== 0) return;
          apiProbes.push(
            followApi(inferenceId, ack.partition, String(ack.offset)).catch((error: Error) => {
              failed += 1;
              say(`following ${inferenceId} through GET /v1/freshness failed: ${error.message}`);
            }),
          );
        });
      })
      .catch((error: unknown) => {
        failed += unit.length;
        if (++failedRequests <= 3) say(`POST failed: ${(error as Error).message}`);
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  }
  const sendingS = (performance.now() - startedMs) / 1_000;
  const sentPerS = total / sendingS;
  const cpuAfter = cpuOf();
  /** Cores each process kept busy while the load was sent (2 is all of this machine). */
  const coresBusy = Object.fromEntries(
    Object.entries(cpuAfter).map(([name, seconds]) => [
      name,
      Math.round(((seconds - cpuBefore[name]!) / sendingS) * 100) / 100,
    ]),
  );
  await Promise.all(inFlight);
  await Promise.all(apiProbes);
  const deadline = Date.now() + FOLLOW_TIMEOUT_MS;
  while (waiting.size > 0 && Date.now() < deadline) await sleep(50);
  polling = false;
  await poller;
  await readAppendTimes(kafka, positions, seen.appendedAtMs);
  const between = (
    from: (id: string, entry: Followed) => number | undefined,
    to: (id: string, entry: Followed) => number | undefined,
  ) =>
    tail(
      [...followed].flatMap(([id, entry]) => {
        const [start, end] = [from(id, entry), to(id, entry)];
        return start === undefined || end === undefined ? [] : [end - start];
      }),
    );
  const ack = (_id: string, entry: Followed) => entry.ackAtMs;
  const appended = (id: string) => seen.appendedAtMs.get(id);
  const created = (id: string) => seen.decisionCreatedAtMs.get(id);
  const decided = (id: string) => seen.decidedAtMs.get(id);
  const ledger = (_id: string, entry: Followed) => entry.ledgerAtMs;
  const result = {
    ackMs: tail(ackMs),
    decidedMs: between(ack, decided),
    ledgerMs: between(ack, ledger),
    apiMs: between(ack, (_id, entry) => entry.apiAtMs),
    attributionStageMs: between(appended, created),
    commitStageMs: between(created, decided),
    projectionStageMs: between(decided, ledger),
    sentPerS,
    failed,
    lost: waiting.size,
    coresBusy,
  };
  for (const id of followed.keys()) {
    seen.appendedAtMs.delete(id);
    seen.decisionCreatedAtMs.delete(id);
    seen.decidedAtMs.delete(id);
    seen.decisionAt.delete(id);
  }
  return result;
}

/** Kafka's EndToEndLatency on the same broker as the operator: the floor, in whole milliseconds as it prints them. */
async function kafkaFloor(kafka: RunningKafka): Promise<{ p50: number; p99: number; p999: number; avg: number }> {
  const result = await runKafkaCli('kafka-e2e-latency', [
    kafka.brokers,
    `bench.latency.floor.${Date.now().toString(36)}`,
    String(E2E_RECORDS),
    'all',
    String(E2E_RECORD_BYTES),
    localBrokerFiles(KAFKA_NAME).clientProperties(OPERATOR_PRINCIPAL),
  ]);
  const output = `${result.stdout}\n${result.stderr}`;
  const avg = /Avg latency: ([\d.]+) ms/.exec(output);
  const percentiles = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(output);
  if (result.code !== 0 || !avg || !percentiles)
    throw new Error(`Kafka's EndToEndLatency failed (exit ${result.code}):\n${output.slice(-2_000)}`);
  return {
    avg: Number(avg[1]),
    p50: Number(percentiles[1]),
    p99: Number(percentiles[2]),
    p999: Number(percentiles[3]),
  };
}

function figure(values: readonly number[], unit: string) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    median: round(sorted[Math.floor(sorted.length / 2)]!),
    min: round(sorted[0]!),
    max: round(sorted.at(-1)!),
    unit,
  };
}

async function waitForReady(service: ServiceProcess, name: ServiceName): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (new RegExp(`${name} ready`).test(service.output())) return;
    if (service.child.exitCode !== null) break;
    await sleep(250);
  }
  throw new Error(`${name} did not start:\n${service.output().slice(-3_000)}`);
}

async function main(): Promise<void> {
  installKafkaWireFastPaths();
  if (topicPrefix()) throw new Error('bench:latency runs without TRIBUTARY_TOPIC_PREFIX (unset it)');
  const port = process.env.BENCH_KAFKA_PORT ? Number(process.env.BENCH_KAFKA_PORT) : await freeBrokerPort();
  // A fresh broker for every run, as the database is fresh: the topics have no prefix, so a log kept from
  // earlier runs would be projected again into the new ledger (its offsets are the database's), taking
  // the machine for minutes of each measurement, more with every run.
  await stopKafka(KAFKA_NAME);
  rmSync(localBrokerFiles(KAFKA_NAME).dataDir, { recursive: true, force: true });
  const kafka = await startKafka({ port, name: KAFKA_NAME, log: say, security: 'sasl_ssl' });
  const databaseUrl = withDatabase(
    new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tributary'),
    `bench_latency_${Date.now().toString(36)}`,
  );
  const services: ServiceProcess[] = [];
  const ledgerSql = new Client({ connectionString: databaseUrl });
  let watcher: Consumer | undefined;
  try {
    await ensurePostgres(databaseUrl);
    await prepareBroker(kafka.clientEnv(OPERATOR_PRINCIPAL), say);
    await applyServiceAcls(KAFKA_NAME, '');
    const local = LOCAL_SERVICES.filter((service) => (SERVICES as readonly string[]).includes(service.name));
    const roleEnv = await runOwnerSteps(databaseUrl, local, {});
    const gatewayData = await new DataSource({ ...dataSourceOptions(databaseUrl, 1), logging: ['error'] }).initialize();
    const gatewayKey = (
      await new ApiKeyRepository(gatewayData).create({
        producerId: 'bench-latency',
        eventTypes: ['*'],
        datanetIds: ['*'],
        modelIds: ['*'],
      })
    ).key;
    await gatewayData.destroy();
    const readCredential = (await issueReadCredential(databaseUrl, ['operator'], 'bench:latency')).key;
    const urls = {} as Record<ServiceName, string>;
    for (const service of local) {
      const httpPort = await freeBrokerPort();
      urls[service.name as ServiceName] = `http://127.0.0.1:${httpPort}`;
      const { DATABASE_URL: _owner, ...inherited } = process.env;
      const env: Record<string, string> = {
        ...(inherited as Record<string, string>),
        ...kafka.clientEnv(service.name),
        ...roleEnv.get(service.name),
        [service.httpPortVariable]: String(httpPort),
        HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'log',
        LEDGER_API_RATE_LIMIT_PER_ADDRESS: '10000000',
        LEDGER_API_RATE_LIMIT_PER_CREDENTIAL: '10000000',
      };
      const started = startServiceProcess(service.main, env, `latency-${service.name}`);
      services.push(started);
      await waitForReady(started, service.name as ServiceName);
      say(`${service.name} ready at ${urls[service.name as ServiceName]}`);
    }
    await ledgerSql.connect();
    const pids: Record<string, number | undefined> = { kafka: kafka.pid };
    local.forEach((service, index) => (pids[service.name] = services[index]!.child.pid));
    const seen: Seen = {
      appendedAtMs: new Map(),
      decisionCreatedAtMs: new Map(),
      decidedAtMs: new Map(),
      decisionAt: new Map(),
    };
    watcher = await topicWatcher(kafka, seen);
    const runId = `lat${Date.now().toString(36)}`;
    // One stream for the whole benchmark: event ids are never reused across runs.
    const events = traffic(runId);
    for (const event of setupEvents(runId)) {
      const answer = await request(`${urls.gateway}/events/${event.type}`, {
        method: 'POST',
        body: toJson(event.data),
        token: gatewayKey,
      });
      if (answer.status !== 202) throw new Error(`setup ${event.type} answered ${answer.status}: ${answer.body}`);
    }
    say(`economy set up; warming up for ${WARMUP_SECONDS} s at ${WARMUP_RATE_PER_S} events/s`);
    const warm = await oneRun(
      kafka,
      events,
      urls,
      gatewayKey,
      readCredential,
      ledgerSql,
      seen,
      WARMUP_SECONDS,
      pids,
      WARMUP_RATE_PER_S,
    );
    say(`warm-up: ${toJson(warm)}`);
    const runs = new Map<number, RunResult[]>(RATES_PER_S.map((rate) => [rate, []]));
    const floors: Array<Awaited<ReturnType<typeof kafkaFloor>>> = [];
    for (let index = 1; index <= RUNS; index += 1) {
      floors.push(await kafkaFloor(kafka));
      say(`run ${index} Kafka floor: ${toJson(floors.at(-1))}`);
      // The rates interleaved, so drift in the machine's speed reaches each alike.
      for (const rate of RATES_PER_S) {
        runs
          .get(rate)!
          .push(
            await oneRun(kafka, events, urls, gatewayKey, readCredential, ledgerSql, seen, RUN_SECONDS, pids, rate),
          );
        say(`run ${index} at ${rate}/s: ${toJson(runs.get(rate)!.at(-1))}`);
      }
    }
    const all = [...runs.values()].flat();
    const lost = all.reduce((sum, run) => sum + run.lost + run.failed, 0);
    const figuresAt = (rate: number) => {
      const atRate = runs.get(rate)!;
      const tails = (name: string, pick: (run: RunResult) => Tail) =>
        Object.fromEntries(
          (['p50', 'p90', 'p99', 'max'] as const).map((key) => [
            `at${rate}_${name}_${key}`,
            figure(
              atRate.map((run) => pick(run)[key]),
              'ms',
            ),
          ]),
        );
      const cores = Object.fromEntries(
        Object.keys(atRate[0]!.coresBusy).map((name) => [
          `at${rate}_cores_${name}`,
          figure(
            atRate.map((run) => run.coresBusy[name]!),
            'cores',
          ),
        ]),
      );
      return {
        ...tails('ack', (run) => run.ackMs),
        ...tails('decided', (run) => run.decidedMs),
        ...tails('ledger', (run) => run.ledgerMs),
        ...tails('api', (run) => run.apiMs),
        ...tails('stage_attribution', (run) => run.attributionStageMs),
        ...tails('stage_commit', (run) => run.commitStageMs),
        ...tails('stage_projection', (run) => run.projectionStageMs),
        [`at${rate}_sent`]: figure(
          atRate.map((run) => run.sentPerS),
          'events/s',
        ),
        [`at${rate}_lost_or_failed`]: figure(
          atRate.map((run) => run.lost + run.failed),
          'events',
        ),
        ...cores,
      };
    };
    const results = {
      name: 'latency',
      ...benchProvenance(),
      machine: benchMachine('shared 2-core machine; broker, PostgreSQL, four services and the load on the same host'),
      runs: RUNS,
      setup: {
        load: `${RATES_PER_S.join(' and ')} events/s (figures at<rate>_...), open loop through the gateway (${BATCH_EVENTS === 1 ? 'one event per POST' : `${BATCH_EVENTS} events per POST /events/batch`}) for ${RUN_SECONDS} s a run each, interleaved; ${TABLE_EVERY - 1} in ${TABLE_EVERY} paid inferences with up to 8 attributions, 1 in ${TABLE_EVERY} table records of new economies`,
        measured:
          'ack: due time to 202; decided: 202 to the decision readable read_committed on the attributions topic; ledger: 202 to the position the projector stores with the ledger passing its decision (polled every ' +
          `${LEDGER_POLL_MS} ms); api: 202 to GET /v1/freshness answering reflected (1 inference in ${API_PROBE_EVERY}, each one request with waitMs=${FRESHNESS_WAIT_MS}); ` +
          'stages from the records: attribution = inference append time (broker, read back after each run) to decision created, commit = to decision readable, projection = to ledger; only the attributions topic is read while the load is sent; cores = CPU per process while the load was sent (postgresql: all of its processes; machine: all of it, of 2)',
        floor: `Kafka's EndToEndLatency (acks=all, ${E2E_RECORDS} records of ${E2E_RECORD_BYTES} bytes, one at a time) on the same broker as the operator, before each run`,
        stack: `one KRaft broker (${kafka.security}), local PostgreSQL with a role per service, gateway, attribution, ledger-projector and ledger-api processes (defaults)`,
      },
      figures: {
        ...Object.assign({}, ...RATES_PER_S.map(figuresAt)),
        kafka_e2e_p50: figure(
          floors.map((floor) => floor.p50),
          'ms',
        ),
        kafka_e2e_p99: figure(
          floors.map((floor) => floor.p99),
          'ms',
        ),
        kafka_e2e_avg: figure(
          floors.map((floor) => floor.avg),
          'ms',
        ),
      },
    };
    if (lost > 0) say(`WARNING: ${lost} events failed or never reached the ledger: see artifacts/test-logs/latency-*`);
    mkdirSync(path.dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    say(`wrote ${RESULTS}`);
    say(JSON.stringify(results.figures));
  } finally {
    await watcher?.disconnect().catch(() => undefined);
    await ledgerSql.end().catch(() => undefined);
    for (const service of services.reverse()) await service.stop();
    await kafka.stop();
    await dropDatabase(databaseUrl).catch(() => undefined);
  }
}

/**
 * The stack is measured on a Node line the project supports (package.json's engines), as the integration
 * tier runs: on any other (this machine's Node 20, past its end of life) the benchmark runs itself again
 * on the pinned Node 24 (deploy/node, installed by `npm run ensure-deps`), and the services it starts
 * run on the same binary. Returns false when it did so and this process is only waiting for that one.
 */
function onSupportedNode(): boolean {
  if ((PINNED_NODE_LINES as readonly string[]).includes(process.versions.node.split('.')[0]!)) return true;
  const node = pinnedNode('24');
  say(
    `Node ${process.versions.node} is not a supported line: running on Node ${pinnedNodeVersion(node)} (deploy/node)`,
  );
  const run = spawnSync(node.binary, [...FROM_SOURCE_NODE_ARGS, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...pinnedNodeEnv(node), TS_NODE_TRANSPILE_ONLY: 'true' },
  });
  process.exitCode = run.status ?? 1;
  return false;
}

if (onSupportedNode())
  main().catch((error: unknown) => {
    process.stderr.write(`bench:latency: ${(error as Error).stack}\n`);
    process.exit(1);
  });
