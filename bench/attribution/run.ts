/**
 * Benchmark of the attribution service (`npm run bench:attribution`): decisions per second with Kafka
 * transactions on, inferences with 8 attributions each, the service run as its own process exactly as
 * `npm start` runs it. Side figures show what bounds it: the pure policy alone, and the policy plus the
 * Avro encoding of the decision, both in this one Node process. Writes bench/results/attribution.json.
 *
 * Kafka is secured as the product runs it: the service as its own principal (`attribution`, with the access
 * catalog's ACLs for the run's topic prefix), the load generator as the operator. Each service figure is
 * measured on a plaintext broker too, interleaved with the secured one in the same run, and written beside
 * it as `<figure>_plaintext` with `security_cost_pct`: the cost of security on the same machine at the same
 * time. Uses KAFKA_BROKERS (and BENCH_PLAINTEXT_BROKERS, BENCH_KAFKA_NAME) when set, else bench/with-broker.ts
 * starts both brokers; DATABASE_URL (default the local tributary_test database's server). Each run uses a
 * fresh topic prefix and a fresh database.
 */
import { randomUUID } from 'node:crypto';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { decideAttribution, type AttributionInput } from '@tributary/attribution';
import { kafkaClientOptions } from '@tributary/config';
import {
  catalogFor,
  deadLetterTopicSpec,
  toRecord,
  topicCatalog,
  type EventData,
  type EventType,
  type InferenceCompleted,
  SchemaIdBook,
} from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { registerEventSchemas, schemaRegistryUrl } from '@tributary/schema-registry';
import { dropDatabase, ensurePostgres, withDatabase } from '@tributary/local-stack';
import { startServiceProcess } from '@tributary/testing';
import { toAttributedEvent } from '../../services/attribution/src/decision/wire';
import { benchBrokers, benchMachine, benchProvenance, securityCost, type BenchBroker } from '../with-broker';

const INFERENCE_COUNT = Number(process.env.BENCH_INFERENCES ?? 40_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/**
 * Service processes in the decider group (partitions are split among them), one setting after another
 * in the same run: BENCH_INSTANCES=1,2 (the default) measures one instance, then two, side by side.
 */
const INSTANCE_COUNTS = (process.env.BENCH_INSTANCES ?? '1,2').split(',').map((count) => {
  const instances = Number(count);
  if (!Number.isInteger(instances) || instances < 1 || instances > 6)
    throw new RangeError(`BENCH_INSTANCES: each entry must be an integer from 1 to 6 (got "${count}")`);
  return instances;
});
/** Inferences decided before the measured ones (not measured): a long-running service is warm. */
const WARMUP_COUNT = Number(process.env.BENCH_WARMUP ?? 10_000);
const ATTRIBUTIONS = 8;
const CONTRIBUTIONS = 2_000;
const BROKERS = benchBrokers();
/** Measured in turn for every setting: the secured broker (the product's figures), and the plaintext one when given. */
const MEASURED_BROKERS: readonly BenchBroker[] = [BROKERS.secured, ...(BROKERS.plaintext ? [BROKERS.plaintext] : [])];
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tributary_test';
const TIMEOUT_MS = 600_000;
/** BENCH_WRITE=0 prints the figures without rewriting bench/results/attribution.json (A/B runs on a busy machine). */
const WRITE_RESULTS = process.env.BENCH_WRITE !== '0';
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null where unreadable. */
function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the parenthesised command name: utime and stime are the 14th and 15th of the line.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine so far (every process: service, broker, PostgreSQL, bench, others). */
function machineBusySeconds(): number | null {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by every process on the machine, summed per label: the command name, told
 * apart where the machine is shared (other agents' brokers, databases and tests run beside the bench):
 * `node (service)` for the service processes, `java (<broker name>)`, `postgres (bench)` for backends
 * of this run's database, `postgres (server)` for the shared WAL writer, checkpointer... and
 * `postgres (other)` for other databases' backends.
 */
function cpuByCommand(servicePids: ReadonlySet<number>, databaseName: string): Map<string, number> {
  const byCommand = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const line = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
      const label = processLabel(
        Number(entry),
        line.slice(line.indexOf('(') + 1, line.lastIndexOf(')')),
        servicePids,
        databaseName,
      );
      byCommand.set(label, (byCommand.get(label) ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S);
    } catch {
      // The process exited between the listing and the read.
    }
  }
  return byCommand;
}

function processLabel(pid: number, command: string, servicePids: ReadonlySet<number>, databaseName: string): string {
  if (servicePids.has(pid)) return `${command} (service)`;
  if (command !== 'java' && command !== 'postgres') return command;
  const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  if (command === 'postgres') {
    if (commandLine.includes(` ${databaseName} `)) return 'postgres (bench)';
    // Backends name their client address; the rest (WAL writer, checkpointer...) serve every database.
    return /\(\d+\)|\[local\]/.test(commandLine) ? 'postgres (other)' : 'postgres (server)';
  }
  const broker = /kafka-data\/([^/]+)\//.exec(commandLine)?.[1];
  return broker === undefined ? command : `java (${broker})`;
}

/** CPU ms per 1,000 decisions of each command that used at least 1 ms per 1,000, busiest first. */
function cpuByCommandPerThousand(
  from: Map<string, number>,
  to: Map<string, number>,
  decisions: number,
): Record<string, number> {
  const perThousand = [...to].map(
    ([command, seconds]) => [command, Math.round(((seconds - (from.get(command) ?? 0)) * 1e6) / decisions)] as const,
  );
  return Object.fromEntries(perThousand.filter(([, ms]) => ms >= 1).sort((left, right) => right[1] - left[1]));
}

interface ServiceFigures {
  readonly decisionsPerSecond: number;
  /** CPU milliseconds of the service processes (all instances) per 1,000 decisions, inferences visible to last commit. */
  readonly serviceCpuMsPerThousand: number | null;
  /** Whole-machine busy CPU milliseconds per 1,000 decisions over the same interval. */
  readonly machineCpuMsPerThousand: number | null;
  /** The same, per command name (node, java, postgres...): processes that exited in between are missed. */
  readonly cpuMsPerThousandByCommand: Record<string, number>;
}

const split = { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 };

function inferenceData(index: number, occurredAt: bigint): InferenceCompleted {
  return {
    eventId: `evt-${index}`,
    inferenceId: `bench-${index}`,
    occurredAt,
    modelId: 'model-1',
    agentId: null,
    consumerId: `consumer-${index % 100}`,
    asset: 'USDC',
    feeMinor: BigInt(10_000 + index),
    attributions: Array.from({ length: ATTRIBUTIONS }, (_, slot) => ({
      contributionId: `contribution-${(index * 31 + slot * 7) % CONTRIBUTIONS}`,
      scorePpm: BigInt(1_000 + ((index + slot) % 50) * 997),
    })),
    method: 'influence/v1',
    latencyMs: null,
  };
}

function policyInput(data: InferenceCompleted): AttributionInput {
  const contributionIds = data.attributions.map((a) => a.contributionId);
  return {
    inference: {
      ...data,
      attributions: data.attributions.map((a) => ({ contributionId: a.contributionId, scorePpm: Number(a.scorePpm) })),
    },
    model: { modelId: 'model-1', owner: 'mona', datanetIds: ['datanet-1'], split },
    datanets: [{ datanetId: 'datanet-1', owner: 'olga', curatorShareBps: 2_000 }],
    contributions: [...new Set(contributionIds)].map((contributionId) => ({
      contributionId,
      datanetId: 'datanet-1',
      contributor: `contributor-${contributionId}`,
      status: 'ACCEPTED' as const,
      revoked: false,
    })),
    protocolId: 'tributary',
  };
}

/** The policy (and optionally the encoding) alone, single-threaded: the ceiling of one decider process. */
function inProcessRate(encode: boolean): number {
  const count = 20_000;
  const inputs = Array.from({ length: count }, (_, index) => policyInput(inferenceData(index, 0n)));
  const startedAt = process.hrtime.bigint();
  for (const input of inputs) {
    const decision = decideAttribution(input);
    if (encode)
      toRecord('InferenceAttributed', toAttributedEvent(decision, 'evt', 0n, 'urn:bench'), { source: 'urn:bench' });
  }
  const elapsedMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
  return Math.round((count / elapsedMs) * 1_000);
}

/**
 * The registry's ids when SCHEMA_REGISTRY_URL names one (`npm run registry -- start`): then one instance on
 * the secured broker is measured framed too (the service and the load both Confluent-framed), interleaved
 * with the raw runs, as `decisionsTransactional_framed` beside `framing_cost_pct`.
 */
const REGISTRY_URL = schemaRegistryUrl();

async function serviceRate(
  instances: number,
  broker: BenchBroker,
  schemaIds: SchemaIdBook | null = null,
): Promise<ServiceFigures> {
  const prefix = `bench.${randomUUID().slice(0, 8)}.`;
  const catalog = catalogFor(prefix);
  const databaseName = `bench_attribution_${randomUUID().slice(0, 8)}`;
  const databaseUrl = withDatabase(new URL(SERVER_URL), databaseName);
  await ensurePostgres(databaseUrl);
  const kafka = new Kafka({ ...kafkaClientOptions(broker.kafka, 'bench'), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // The operator creates the topics, as in production: the service's principal may not.
  await ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${catalog.groups.attribution}.tables`)], 1);
  await broker.grantServices(prefix);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // The tables are timestamped first; then each inference 1 ms after the one before (within the last minute),
  // as a live stream would be: every batch reads the table state as of a later time than the batch before.
  const tablesAtMs = Date.now() - 120_000;
  const send = async (
    topic: string,
    type: EventType,
    items: unknown[],
    sender: Pick<typeof producer, 'send'> = producer,
    timestampOf = (_index: number) => tablesAtMs,
  ) => {
    for (let start = 0; start < items.length; start += 2_000) {
      await sender.send({
        topic,
        acks: -1,
        messages: items.slice(start, start + 2_000).map((data, slot) => {
          const record = toRecord(type, data as EventData<typeof type>, {
            source: 'urn:bench',
            topicPrefix: prefix,
            schemaIds,
          });
          return {
            key: record.key,
            value: record.value,
            headers: record.headers,
            timestamp: String(timestampOf(start + slot)),
          };
        }),
      });
    }
  };
  const occurredAt = BigInt(Date.now());
  await send(catalog.topics.datanets.name, 'DatanetCreated', [
    {
      eventId: 'd',
      datanetId: 'datanet-1',
      occurredAt,
      ownerId: 'olga',
      name: 'n',
      license: 'MIT',
      curatorShareBps: 2_000,
    },
  ]);
  const contributionIds = Array.from({ length: CONTRIBUTIONS }, (_, index) => `contribution-${index}`);
  await send(
    catalog.topics.contributions.name,
    'ContributionSubmitted',
    contributionIds.map((contributionId) => ({
      eventId: `s-${contributionId}`,
      contributionId,
      occurredAt,
      datanetId: 'datanet-1',
      contributorId: `contributor-${contributionId}`,
      contentHash: 'sha256:00',
      sizeBytes: 1n,
      license: 'MIT',
    })),
  );
  await send(
    catalog.topics.contributions.name,
    'ContributionValidated',
    contributionIds.map((contributionId) => ({
      eventId: `v-${contributionId}`,
      contributionId,
      occurredAt,
      validatorId: 'val',
      decision: 'ACCEPTED',
      qualityScoreBps: 1,
      reason: null,
    })),
  );
  await send(catalog.topics.models.name, 'ModelRegistered', [
    { eventId: 'm', modelId: 'model-1', occurredAt, ownerId: 'mona', baseModel: 'b', datanetIds: ['datanet-1'], split },
  ]);
  await producer.disconnect();
  // The inferences go out in two open transactions, committed once every instance holds its partitions
  // (read_committed deciders see none before, so no instance starts alone and none joins mid-run): first
  // WARMUP_COUNT of them, decided before anything is measured (a cold process runs its first batches
  // unoptimised and spends CPU on compiling them), then the INFERENCE_COUNT measured ones, later in time.
  const transactional = (name: string) =>
    kafka.producer({
      transactionalId: `bench-${prefix}${name}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 300_000,
    });
  const warmupProducer = transactional('warmup');
  const inferences = transactional('measured');
  await Promise.all([warmupProducer.connect(), inferences.connect()]);
  const warmup = await warmupProducer.transaction();
  const transaction = await inferences.transaction();
  const inferencesFromMs = tablesAtMs + 1_000;
  const spacingMs = 90_000 / (WARMUP_COUNT + INFERENCE_COUNT);
  await send(
    catalog.topics.inferences.name,
    'InferenceCompleted',
    Array.from({ length: WARMUP_COUNT }, (_, index) => inferenceData(INFERENCE_COUNT + index, occurredAt)),
    warmup,
    (index) => inferencesFromMs + Math.floor(index * spacingMs),
  );
  await send(
    catalog.topics.inferences.name,
    'InferenceCompleted',
    Array.from({ length: INFERENCE_COUNT }, (_, index) => inferenceData(index, occurredAt)),
    transaction,
    (index) => inferencesFromMs + Math.floor((WARMUP_COUNT + index) * spacingMs),
  );

  const services = Array.from({ length: instances }, (_, instance) =>
    startServiceProcess(
      'services/attribution/src/main.ts',
      {
        ...broker.serviceEnv('attribution'),
        DATABASE_URL: databaseUrl,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        // Framed runs give the service the registry (it registers and frames); raw runs give it none.
        SCHEMA_REGISTRY_URL: schemaIds === null ? '' : REGISTRY_URL!,
        ATTRIBUTION_HTTP_PORT: '0',
        LOG_LEVEL: 'warn',
        // BENCH_CPU_PROF_DIR=<dir> writes a V8 CPU profile of each service process (on its SIGTERM exit) there.
        // BENCH_SERVICE_NODE_OPTIONS adds Node/V8 options to the service processes (e.g. GC sizing for an A/B).
        NODE_OPTIONS: [
          process.env.BENCH_SERVICE_NODE_OPTIONS ?? '',
          process.env.BENCH_CPU_PROF_DIR ? `-r ${path.resolve(__dirname, 'cpu-profile.js')}` : '',
        ]
          .join(' ')
          .trim(),
        ...(process.env.BENCH_CPU_PROF_DIR ? { BENCH_CPU_PROF_DIR: path.resolve(process.env.BENCH_CPU_PROF_DIR) } : {}),
      },
      `bench-attribution-${instance}`,
    ),
  );
  const servicePids = new Set(
    services.map((service) => service.child.pid).filter((pid): pid is number => pid !== undefined),
  );
  const servicesCpuSeconds = () => {
    const seconds = services.map((service) => processCpuSeconds(service.child.pid));
    return seconds.some((value) => value === null) ? null : seconds.reduce<number>((sum, value) => sum + value!, 0);
  };
  const sql = new Client({ connectionString: databaseUrl, options: '-c search_path=attribution' });
  const groupId = catalog.groups.attribution;
  try {
    await groupStable(admin, groupId, instances, catalog.topics.inferences.name, () =>
      services
        .map((service) => service.output())
        .join('\n')
        .slice(-3_000),
    );
    await warmup.commit();
    await waitForCommitted(admin, groupId, catalog.topics.inferences.name, WARMUP_COUNT, () =>
      services
        .map((service) => service.output())
        .join('\n')
        .slice(-3_000),
    );
    // Measured from the moment the measured inferences become visible: every instance is up, warm and holds
    // its partitions, so the interval is exactly the work of deciding them, first fetch and first batch included.
    const cpuAtFirst = servicesCpuSeconds();
    const machineAtFirst = machineBusySeconds();
    const commandsAtFirst = cpuByCommand(servicePids, databaseName);
    const firstAtMs = Date.now();
    await transaction.commit();
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      if (Date.now() > deadline)
        throw new Error(
          `not done within ${TIMEOUT_MS} ms:\n${services.map((service) => service.output().slice(-3_000)).join('\n')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const committed = await committedTotal(admin, groupId, catalog.topics.inferences.name);
      if (committed >= WARMUP_COUNT + INFERENCE_COUNT) {
        const elapsedMs = Date.now() - firstAtMs;
        const cpuAtLast = servicesCpuSeconds();
        const machineAtLast = machineBusySeconds();
        const commandsAtLast = cpuByCommand(servicePids, databaseName);
        const measured = INFERENCE_COUNT;
        const perThousand = (from: number | null, to: number | null) =>
          from === null || to === null || measured <= 0 ? null : Math.round(((to - from) * 1e6) / measured);
        await sql.connect();
        const decided = Number((await sql.query('SELECT count(*) FROM decisions')).rows[0].count);
        if (decided !== WARMUP_COUNT + INFERENCE_COUNT)
          throw new Error(`${decided} decisions stored, expected ${WARMUP_COUNT + INFERENCE_COUNT}`);
        return {
          decisionsPerSecond: Math.round((INFERENCE_COUNT / elapsedMs) * 1_000),
          serviceCpuMsPerThousand: perThousand(cpuAtFirst, cpuAtLast),
          machineCpuMsPerThousand: perThousand(machineAtFirst, machineAtLast),
          cpuMsPerThousandByCommand: cpuByCommandPerThousand(commandsAtFirst, commandsAtLast, measured),
        };
      }
    }
  } finally {
    for (const open of [warmup, transaction]) if (open.isActive()) await open.abort().catch(() => undefined);
    await Promise.all([warmupProducer.disconnect(), inferences.disconnect()]);
    await Promise.all(services.map((service) => service.stop()));
    await sql.end().catch(() => undefined);
    await admin.deleteTopics({ topics: topicCatalog(catalog).map((spec) => spec.name) }).catch(() => undefined);
    await admin.disconnect();
    await dropDatabase(databaseUrl).catch(() => undefined);
  }
}

/** Waits until the decider group is stable with `members` members that hold every inference partition between them. */
async function groupStable(
  admin: ReturnType<Kafka['admin']>,
  groupId: string,
  members: number,
  topic: string,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    if (group?.state === 'Stable' && group.members.length === members) {
      const assigned = group.members.flatMap((member) => {
        const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        return assignment?.assignment[topic] ?? [];
      });
      if (assigned.length > 0 && new Set(assigned).size === assigned.length) return;
    }
    if (Date.now() > deadline)
      throw new Error(
        `group ${groupId} not stable with ${members} members within 120 s (${group?.state}, ${group?.members.length}):\n${output()}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function waitForCommitted(
  admin: ReturnType<Kafka['admin']>,
  groupId: string,
  topic: string,
  count: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while ((await committedTotal(admin, groupId, topic)) < count) {
    if (Date.now() > deadline) throw new Error(`${count} inferences not decided within ${TIMEOUT_MS} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function committedTotal(admin: ReturnType<Kafka['admin']>, groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, entry) => sum + Math.max(0, Number(entry.offset)), 0);
}

function figure(values: number[], unit: string) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)!, unit };
}

interface Series {
  readonly rates: number[];
  readonly serviceCpu: number[];
  readonly machineCpu: number[];
}

async function main(): Promise<void> {
  installKafkaWireFastPaths();
  const series = new Map<string, Series>();
  const seriesOf = (role: BenchBroker['role'], instances: number): Series => {
    const key = `${role} ${instances}`;
    if (!series.has(key)) series.set(key, { rates: [], serviceCpu: [], machineCpu: [] });
    return series.get(key)!;
  };
  const policy: number[] = [];
  const policyAndEncoding: number[] = [];
  const framedIds = REGISTRY_URL === undefined ? null : SchemaIdBook.of(await registerEventSchemas(REGISTRY_URL));
  const framed: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    if (framedIds !== null) {
      // Framed on the secured broker, one instance, first in each run, then the raw ones.
      const figures = await serviceRate(1, BROKERS.secured, framedIds);
      framed.push(figures.decisionsPerSecond);
      process.stdout.write(
        `run ${run + 1}, 1 instance, secured, Confluent-framed: ${figures.decisionsPerSecond} decisions/s\n`,
      );
    }
    policy.push(inProcessRate(false));
    policyAndEncoding.push(inProcessRate(true));
    for (const instances of INSTANCE_COUNTS) {
      // Secured and plaintext back to back, which one first alternating from run to run: a shared machine's
      // drift, and anything the first of a pair leaves the second (page cache, a warmer JIT), fall on both alike.
      for (const broker of run % 2 === 0 ? MEASURED_BROKERS : [...MEASURED_BROKERS].reverse()) {
        const figures = await serviceRate(instances, broker);
        const into = seriesOf(broker.role, instances);
        into.rates.push(figures.decisionsPerSecond);
        if (figures.serviceCpuMsPerThousand !== null) into.serviceCpu.push(figures.serviceCpuMsPerThousand);
        if (figures.machineCpuMsPerThousand !== null) into.machineCpu.push(figures.machineCpuMsPerThousand);
        process.stdout.write(
          `run ${run + 1}, ${instances} instance(s), ${broker.role} (${broker.kafka.KAFKA_SECURITY}): ` +
            `service ${figures.decisionsPerSecond} decisions/s (service CPU ${figures.serviceCpuMsPerThousand} ms, ` +
            `machine CPU ${figures.machineCpuMsPerThousand} ms per 1,000), ` +
            `policy ${policy.at(-1)}/s, policy+encoding ${policyAndEncoding.at(-1)}/s\n` +
            `  CPU ms per 1,000 decisions by command: ${JSON.stringify(figures.cpuMsPerThousandByCommand)}\n`,
        );
      }
    }
  }
  /**
   * Figures of one instance count: the first keeps the plain names, the others say how many instances. The
   * secured figures keep the names (they are the product's), each plaintext one sits beside as `_plaintext`.
   */
  const serviceFigures = (instances: number, index: number) => {
    const suffix = index === 0 && instances === 1 ? '' : `With${instances}Instances`;
    const secured = seriesOf('secured', instances);
    const plaintext = BROKERS.plaintext ? seriesOf('plaintext', instances) : undefined;
    const named = (name: string, unit: string, values: (of: Series) => number[]) => ({
      ...(values(secured).length > 0 ? { [`${name}${suffix}`]: figure(values(secured), unit) } : {}),
      ...(plaintext && values(plaintext).length > 0
        ? { [`${name}${suffix}_plaintext`]: figure(values(plaintext), unit) }
        : {}),
    });
    return {
      ...named('decisionsTransactional', 'inferences/s', (of) => of.rates),
      ...named('serviceCpuPerThousandDecisions', 'CPU ms', (of) => of.serviceCpu),
      ...named('machineCpuPerThousandDecisions', 'CPU ms', (of) => of.machineCpu),
      ...(plaintext ? { [`security_cost_pct${suffix}`]: securityCost(secured.rates, plaintext.rates) } : {}),
    };
  };
  const result = {
    name: 'attribution',
    machine: benchMachine('shared 2-core machine; broker, PostgreSQL, the service and the benchmark on the same host'),
    ...benchProvenance(),
    runs: RUNS,
    instances: INSTANCE_COUNTS,
    warmupInferences: WARMUP_COUNT,
    inferences: INFERENCE_COUNT,
    attributionsPerInference: ATTRIBUTIONS,
    kafka: {
      figures: BROKERS.secured.describe('attribution'),
      plaintextFigures: BROKERS.plaintext?.describe('attribution') ?? null,
    },
    figures: {
      ...Object.assign({}, ...INSTANCE_COUNTS.map(serviceFigures)),
      ...(framed.length > 0
        ? {
            decisionsTransactional_framed: figure(framed, 'inferences/s'),
            framing_cost_pct: securityCost(framed, seriesOf('secured', INSTANCE_COUNTS[0]!).rates),
          }
        : {}),
      policyOnlyOneThread: figure(policy, 'inferences/s'),
      policyAndAvroEncodingOneThread: figure(policyAndEncoding, 'inferences/s'),
    },
  };
  if (!WRITE_RESULTS) {
    process.stdout.write(`${JSON.stringify(result.figures, null, 2)}\n(BENCH_WRITE=0: results file not written)\n`);
    return;
  }
  const file = path.resolve(__dirname, '../results/attribution.json');
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:attribution: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
