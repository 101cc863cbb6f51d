// The ledger projection benchmark (npm run bench:ledger): a rebuild of BENCH_LEDGER_EVENTS attribution
// decisions (default 1,000,000; 8 credits each, 9 entries with the consumer debit) side by side with
// (a) the same records read by kafkajs and discarded (read ceiling), (b) COPY of the same rows into the
// same tables (write ceiling), and (c) the plain NestJS way: Nest's built-in Kafka transport with an
// @EventPattern handler saving each event through a TypeORM repository (on BENCH_LEDGER_PLAIN_EVENTS).
// Writes bench/results/ledger.json (BENCH_LEDGER_RESULTS: another path, for A/B runs on a busy machine;
// BENCH_WRITE=0: none), with the CPU per event of this process and of the PostgreSQL backends beside the
// rates. BENCH_LEDGER_PARTS (default read,projection,copy,plain) runs only some parts, BENCH_LEDGER_RUNS
// (default 1) each part that many times. Kafka is secured as the product runs it: the projection as the
// projector's own principal (`ledger-projector`, with the access catalog's ACLs for the run's prefix), the
// producer and the other readers as the operator. Each part that reads Kafka is measured on a plaintext
// broker too, right after or before the secured one in the same run, and written beside it as
// `<figure>_plaintext` with `security_cost_pct` (the projection's): the cost of security. Uses
// KAFKA_BROKERS (and BENCH_PLAINTEXT_BROKERS, BENCH_KAFKA_NAME) when set, else bench/with-broker.ts starts
// both brokers.
import 'reflect-metadata';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, KafkaContext, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { kafkaClientOptions } from '@tributary/config';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, Repository } from 'typeorm';
import { catalogFor, fromRecord, toRecord, topicCatalog } from '@tributary/contracts';
import { contributionCredits, entryHash, GENESIS_HASH, transactionOfDecision } from '@tributary/ledger';
import { ensureTopics } from '@tributary/messaging';
import { copyEncoded, CopyEncoder, ensureSchema, postgresOptions } from '@tributary/persistence';
import { ensurePostgres } from '@tributary/local-stack';
import { dataSourceOptions } from '../../services/ledger-projector/src/database/data-source-options';
import {
  createDeferredIndexes,
  dropDeferredIndexes,
  rebuildRunner,
} from '../../services/ledger-projector/src/operations/rebuild';
import { COPY_COLUMNS } from '../../services/ledger-projector/src/projection/copy-columns';
import { readDigest } from '../../services/ledger-projector/src/operations/ledger-queries';
import { decision } from '../../services/ledger-projector/test/fixtures';
import {
  benchBrokers,
  benchMachine,
  benchProvenance,
  KAFKA_CONNECTION_VARIABLES,
  securityCost,
  type BenchBroker,
} from '../with-broker';

const EVENTS = Number(process.env.BENCH_LEDGER_EVENTS ?? 1_000_000);
const PLAIN_EVENTS = Number(process.env.BENCH_LEDGER_PLAIN_EVENTS ?? 5_000);
const BROKERS = benchBrokers();
/** Measured in turn for every part that reads Kafka: the secured broker (the product's figures), the plaintext one. */
const MEASURED_BROKERS: readonly BenchBroker[] = [BROKERS.secured, ...(BROKERS.plaintext ? [BROKERS.plaintext] : [])];
const RUNS = Number(process.env.BENCH_LEDGER_RUNS ?? 1);
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tributary_bench';
/** BENCH_LEDGER_PREFIX reuses the topics of an earlier run with that prefix (printed at start) when they hold the events already: quicker A/B runs. */
const prefix = process.env.BENCH_LEDGER_PREFIX ?? `bench${Date.now()}.`;
const catalog = catalogFor(prefix);
const topic = catalog.topics.attributions.name;
/** The benchmark's own client of a broker: the operator's on a secured one. */
const kafkaOf = (broker: BenchBroker) =>
  new Kafka({ ...kafkaClientOptions(broker.kafka, 'bench-ledger'), logLevel: logLevel.NOTHING });
const log = (line: string) => process.stdout.write(`bench:ledger ${line}\n`);
const rate = (events: number, ms: number) => Math.round((events / ms) * 1000);
/** Which parts to run (comma list of read, projection, copy, plain; default all): quick A/B runs of one part. */
const PARTS = new Set(
  (process.env.BENCH_LEDGER_PARTS ?? 'read,projection,copy,plain').split(',').map((part) => part.trim()),
);
/** Where the results go; A/B runs on a busy machine point it elsewhere so the quiet-machine figures stay. */
const RESULTS_PATH = process.env.BENCH_LEDGER_RESULTS ?? path.resolve(__dirname, '../results/ledger.json');
/** BENCH_WRITE=0 prints the figures without writing a results file (as bench:attribution). */
const WRITE_RESULTS = process.env.BENCH_WRITE !== '0';

/**
 * BENCH_CPU_PROF_DIR=<dir>: a V8 CPU profile of this process while the projection applies records (not
 * while events are produced or indexes built), written as projection-<pid>.cpuprofile.
 */
async function profiled<T>(work: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  if (!dir) return work();
  const session = new inspector.Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `projection-${process.pid}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/**
 * CPU seconds spent by the PostgreSQL backends serving this benchmark's database (read from /proc on the
 * same host; Node's side is processTreeCpuSeconds): on a shared machine wall-clock rates are noisy, CPU
 * per event is not.
 */
class PostgresCpuMeter {
  private readonly backends = new Map<number, number>();
  private constructor(private readonly sql: { query(text: string, values?: unknown[]): Promise<unknown> }) {}

  static async start(sql: { query(text: string, values?: unknown[]): Promise<unknown> }): Promise<PostgresCpuMeter> {
    const meter = new PostgresCpuMeter(sql);
    for (const [pid, seconds] of await meter.backendSeconds()) meter.backends.set(pid, seconds);
    return meter;
  }

  private async backendSeconds(): Promise<Map<number, number>> {
    const rows = (await this.sql.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')) as
      Array<{ pid: number }> | { rows: Array<{ pid: number }> };
    const pids = (Array.isArray(rows) ? rows : rows.rows).map((row) => Number(row.pid));
    const ticks = 100;
    const seconds = new Map<number, number>();
    for (const pid of pids) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        seconds.set(pid, (Number(fields[11]) + Number(fields[12])) / ticks);
      } catch {
        // a backend that ended meanwhile
      }
    }
    return seconds;
  }

  /** Call before the pool closes: a backend's CPU is read from its live process. */
  async stop(events: number): Promise<number> {
    let postgresSeconds = 0;
    for (const [pid, seconds] of await this.backendSeconds())
      postgresSeconds += seconds - (this.backends.get(pid) ?? 0);
    return Math.round((postgresSeconds * 1e6) / events);
  }
}

async function produce(broker: BenchBroker): Promise<void> {
  const kafka = kafkaOf(broker);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicCatalog(catalog), 1);
  await broker.grantServices(prefix);
  // Only a reused prefix can hold events (listing offsets of topics created a moment ago can meet a partition without its leader yet).
  const held = process.env.BENCH_LEDGER_PREFIX
    ? (await admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high), 0)
    : 0;
  await admin.disconnect();
  if (held > 0) {
    if (held !== EVENTS)
      throw new RangeError(`BENCH_LEDGER_PREFIX: ${topic} holds ${held} records, not BENCH_LEDGER_EVENTS=${EVENTS}`);
    log(`reusing the ${held} events of ${topic} (${broker.role})`);
    return;
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const startedMs = Date.now();
  for (let first = 0; first < EVENTS; first += 5_000) {
    const records = Array.from({ length: Math.min(5_000, EVENTS - first) }, (_, index) =>
      toRecord('InferenceAttributed', decision(first + index), { source: 'urn:tributary:bench', topicPrefix: prefix }),
    );
    await producer.send({
      topic,
      acks: -1,
      messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    });
  }
  await producer.disconnect();
  log(`produced ${EVENTS} events in ${((Date.now() - startedMs) / 1000).toFixed(1)} s (${broker.role})`);
}

/** (a) The read ceiling: kafkajs fetches every record and the handler drops it. */
async function readCeiling(broker: BenchBroker, run: number): Promise<number> {
  // A group per run (and broker): nothing is committed, but a fresh group starts with no history either.
  const groupId = `${prefix}read-ceiling.${run}`;
  const consumer = kafkaOf(broker).consumer({ groupId, maxBytesPerPartition: 8 * 1024 * 1024, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  const startedMs = Date.now();
  await new Promise<void>(
    (resolve) =>
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          if (seen >= EVENTS) resolve();
        },
      }),
  );
  const elapsedMs = Date.now() - startedMs;
  await consumer.disconnect();
  return rate(EVENTS, elapsedMs);
}

/** CPU seconds of this process and of its children that have exited (the rebuild's worker processes, once closed). */
function processTreeCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
}

/**
 * Runs `work` with this process's Kafka variables set to `env`: the rebuild reads its connection from the
 * environment (kafkaEnv), as `npm run ledger -- rebuild` does, and its worker processes inherit it.
 */
async function withKafkaEnv<T>(env: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = KAFKA_CONNECTION_VARIABLES.map((variable) => [variable, process.env[variable]] as const);
  for (const variable of KAFKA_CONNECTION_VARIABLES) delete process.env[variable];
  Object.assign(process.env, env);
  try {
    return await work();
  } finally {
    for (const [variable, value] of saved) {
      if (value === undefined) delete process.env[variable];
      else process.env[variable] = value;
    }
  }
}

interface Projected {
  readonly rate: number;
  readonly cpu: { nodeUsPerEvent: number; postgresUsPerEvent: number };
}

/**
 * The projection itself: the rebuild (decode, dedup, chain, COPY) into a fresh schema, as `npm run
 * ledger -- rebuild` runs it: BENCH_LEDGER_WORKERS worker processes (default 2), BENCH_LEDGER_CONCURRENCY
 * partitions at once between them (default 3).
 */
async function projection(broker: BenchBroker): Promise<Projected> {
  // As the projector's own principal on a secured broker: its ACLs cover the rebuild's groups.
  return withKafkaEnv(broker.serviceEnv('ledger-projector'), () => projectionAs(broker));
}

async function projectionAs(broker: BenchBroker): Promise<Projected> {
  const brokers = broker.kafka.KAFKA_BROKERS;
  const schema = `bench_rebuild_${Date.now()}`;
  const workers = Number(process.env.BENCH_LEDGER_WORKERS ?? 2);
  const engine = rebuildRunner({
    databaseUrl,
    brokers,
    clientId: 'bench',
    groupId: catalog.groups.ledgerProjector,
    topics: [topic, catalog.topics.payouts.name, catalog.topics.funding.name],
    schema,
    batchSizeMax: Number(process.env.BENCH_LEDGER_BATCH ?? 5_000),
    partitionsConcurrently: Number(process.env.BENCH_LEDGER_CONCURRENCY ?? 3),
    workers,
    ...(process.env.BENCH_LEDGER_FETCH_BYTES
      ? { fetchBytesPerPartitionMax: Number(process.env.BENCH_LEDGER_FETCH_BYTES) }
      : {}),
  });
  const nodeSecondsBefore = processTreeCpuSeconds();
  await engine.open();
  const targets = await engine.endOffsets();
  const meter = await PostgresCpuMeter.start(engine.source);
  const startedMs = Date.now();
  await profiled(() => engine.runTo(targets));
  const appliedMs = Date.now() - startedMs;
  // Part of the rebuild's cost: the indexes it defers are built before it is usable.
  await engine.createDeferredIndexes();
  const elapsedMs = Date.now() - startedMs;
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  log(
    `projection (${broker.role}, ${workers} worker${workers === 1 ? '' : 's'}): ` +
      `records applied in ${seconds(appliedMs)} s ` +
      `(${rate(EVENTS, appliedMs)} events/s), deferred indexes built in ${seconds(elapsedMs - appliedMs)} s`,
  );
  const postgresUsPerEvent = await meter.stop(EVENTS);
  // The digest names the topics, so two runs compare only over the same topics (BENCH_LEDGER_PREFIX).
  const digest = await readDigest(engine.source, schema);
  log(`projection (${broker.role}): ledger digest ${digest} over ${topic}`);
  await engine.source.query(`DROP SCHEMA ${schema} CASCADE`);
  await engine.close();
  // Counted once the workers have exited (a child's CPU reaches its parent's account when it is reaped);
  // includes opening and closing them, which the timing leaves out.
  const nodeUsPerEvent = Math.round(((processTreeCpuSeconds() - nodeSecondsBefore) * 1e6) / EVENTS);
  return { rate: rate(EVENTS, elapsedMs), cpu: { nodeUsPerEvent, postgresUsPerEvent } };
}

/** Any 32 bytes: the ceiling measures PostgreSQL taking the rows, not hashing (the projection hashes each record value). */
const CEILING_CONTENT_HASH = Buffer.alloc(32, 0xab);

/** (b) The write ceiling: the same rows the projection writes (entries, applied events, inferences, lineage), COPY only, rows prepared and encoded untimed. */
async function writeCeiling(): Promise<{ rate: number; postgresUsPerEvent: number }> {
  const schema = `bench_copy_${Date.now()}`;
  await ensureSchema(databaseUrl, schema);
  const dataSource = await new DataSource(dataSourceOptions(databaseUrl, 2, schema)).initialize();
  // The same table setup as the rebuild's: deferred indexes dropped, built at the end (timed), commits not flushed.
  await dropDeferredIndexes(dataSource, schema);
  let copyMs = 0;
  let postgresUs = 0;
  let hash = GENESIS_HASH;
  const chunkEvents = 10_000;
  for (let first = 0; first < EVENTS; first += chunkEvents) {
    // Rows encoded for COPY outside the timing: the ceiling is PostgreSQL taking them.
    const rows = {
      entries: new CopyEncoder(COPY_COLUMNS.ledgerEntries),
      applied: new CopyEncoder(COPY_COLUMNS.appliedEvents),
      inferences: new CopyEncoder(COPY_COLUMNS.inferences),
      credits: new CopyEncoder(COPY_COLUMNS.contributionCredits),
    };
    for (let sequence = first; sequence < Math.min(EVENTS, first + chunkEvents); sequence += 1) {
      const data = decision(sequence);
      const transaction = transactionOfDecision({ ...data, credits: data.postings });
      rows.applied.row().text(data.eventId).text(topic).int4(0).int8(sequence).bytea(CEILING_CONTENT_HASH);
      rows.inferences
        .row()
        .text(data.inferenceId)
        .text(data.eventId)
        .text(data.inferenceEventId)
        .text(data.modelId)
        .text(data.consumerId)
        .text(data.asset)
        .int8(data.feeMinor)
        .int4(1)
        .text(topic)
        .int4(0)
        .int8(sequence);
      transaction.postings.forEach((posting, index) => {
        const chainSeq = BigInt(sequence * 9 + index + 1);
        hash = entryHash(hash, {
          sourceTopic: topic,
          sourcePartition: 0,
          chainSeq,
          transactionId: data.inferenceId,
          postingIndex: index,
          account: posting.account,
          asset: posting.asset,
          amountMinor: posting.amountMinor,
          sourceEventId: data.eventId,
          sourceOffset: BigInt(sequence),
        });
        rows.entries
          .row()
          .text(topic)
          .int4(0)
          .int8(chainSeq)
          .text(data.inferenceId)
          .int2(index)
          .text(posting.account)
          .text(posting.asset)
          .int8(posting.amountMinor)
          .text(data.eventId)
          .int8(sequence)
          .bytea(hash);
      });
      for (const credit of contributionCredits(data))
        rows.credits
          .row()
          .text(data.inferenceId)
          .text(credit.account)
          .text(credit.contributionId)
          .text(credit.datanetId)
          .int8(credit.scorePpm)
          .text(data.asset)
          .int8(credit.amountMinor);
    }
    const meter = await PostgresCpuMeter.start(dataSource);
    const startedMs = Date.now();
    await dataSource.transaction(async (manager) => {
      await manager.query('SET LOCAL synchronous_commit = off');
      await copyEncoded(manager, 'applied_events', rows.applied);
      await copyEncoded(manager, 'ledger_entries', rows.entries);
      await copyEncoded(manager, 'inferences', rows.inferences);
      await copyEncoded(manager, 'contribution_credits', rows.credits);
    });
    copyMs += Date.now() - startedMs;
    postgresUs += await meter.stop(1);
  }
  const meter = await PostgresCpuMeter.start(dataSource);
  const indexStartedMs = Date.now();
  await createDeferredIndexes(dataSource, schema);
  copyMs += Date.now() - indexStartedMs;
  postgresUs += await meter.stop(1);
  await dataSource.query(`DROP SCHEMA ${schema} CASCADE`);
  await dataSource.destroy();
  return { rate: rate(EVENTS, copyMs), postgresUsPerEvent: Math.round(postgresUs / EVENTS) };
}

@Entity({ name: 'plain_entries' })
class PlainEntry {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'text' }) transactionId!: string;
  @Column({ type: 'text' }) account!: string;
  @Column({ type: 'text' }) asset!: string;
  @Column({ type: 'bigint' }) amountMinor!: string;
  @Column({ type: 'text' }) sourceEventId!: string;
}

const plainProgress = { handled: 0, done: (): void => undefined };

@Controller()
class PlainController {
  constructor(@InjectRepository(PlainEntry) private readonly entries: Repository<PlainEntry>) {}

  /** The plain way: one event per handler call, decoded and saved through the repository. */
  @EventPattern(catalog.topics.attributions.name)
  async handle(@Ctx() context: KafkaContext): Promise<void> {
    const message = context.getMessage();
    const headers = Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([name, value]) => [name, value?.toString()]),
    );
    const decoded = fromRecord(message.value, headers);
    if (decoded.type !== 'InferenceAttributed') return;
    const transaction = transactionOfDecision({ ...decoded.data, credits: decoded.data.postings });
    await this.entries.save(
      transaction.postings.map((posting) =>
        this.entries.create({
          transactionId: transaction.transactionId,
          account: posting.account,
          asset: posting.asset,
          amountMinor: posting.amountMinor.toString(),
          sourceEventId: transaction.sourceEventId,
        }),
      ),
    );
    plainProgress.handled += 1;
    if (plainProgress.handled === PLAIN_EVENTS) plainProgress.done();
  }
}

/** (c) The plain NestJS way, on PLAIN_EVENTS events. */
async function plainNest(broker: BenchBroker, run: number): Promise<number> {
  plainProgress.handled = 0;
  const schema = `bench_plain_${Date.now()}`;
  await ensureSchema(databaseUrl, schema);
  const sql = new Client({ connectionString: databaseUrl });
  await sql.connect();
  await sql.query(
    `CREATE TABLE ${schema}.plain_entries (id bigserial PRIMARY KEY, "transactionId" text NOT NULL, account text NOT NULL, asset text NOT NULL, "amountMinor" bigint NOT NULL, "sourceEventId" text NOT NULL)`,
  );
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...postgresOptions({ url: databaseUrl, schema, entities: [PlainEntry], migrations: [], poolSizeMax: 10 }),
        migrationsRun: false,
      }),
      TypeOrmModule.forFeature([PlainEntry]),
    ],
    controllers: [PlainController],
  })
  class PlainModule {}
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(PlainModule, {
    transport: Transport.KAFKA,
    options: {
      client: { ...kafkaClientOptions(broker.kafka, 'bench-plain'), logLevel: logLevel.NOTHING },
      // A group per run: Nest commits its offsets, so a second run in an old group would find nothing to read.
      consumer: { groupId: `${prefix}plain.${run}` },
      subscribe: { fromBeginning: true },
      parser: { keepBinary: true },
    },
    logger: ['error'],
  });
  const finished = new Promise<void>((resolve) => (plainProgress.done = resolve));
  const startedMs = Date.now();
  await app.listen();
  await finished;
  const elapsedMs = Date.now() - startedMs;
  await app.close();
  await sql.query(`DROP SCHEMA ${schema} CASCADE`);
  await sql.end();
  return rate(PLAIN_EVENTS, elapsedMs);
}

/** Median, min and max of one figure's runs; null where the part did not run. */
function figure(values: readonly number[], unit = 'events/s') {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)!, unit };
}

const median = (values: readonly number[]) => figure(values)?.median ?? null;

interface Series {
  readonly read: number[];
  readonly projection: number[];
  readonly projectionNodeUs: number[];
  readonly projectionPostgresUs: number[];
  readonly plain: number[];
}

async function main(): Promise<void> {
  installKafkaWireFastPaths();
  const roles = MEASURED_BROKERS.map((broker) => broker.role).join(', ');
  log(`${EVENTS} events, 8 credits each, prefix ${prefix}, parts ${[...PARTS].join(',')}, ${RUNS} run(s), ${roles}`);
  await ensurePostgres(databaseUrl);
  for (const broker of MEASURED_BROKERS) await produce(broker);
  const series = new Map(
    MEASURED_BROKERS.map((broker): [BenchBroker['role'], Series] => [
      broker.role,
      {
        read: [],
        projection: [],
        projectionNodeUs: [],
        projectionPostgresUs: [],
        plain: [],
      },
    ]),
  );
  const write: Array<{ rate: number; postgresUsPerEvent: number }> = [];
  for (let run = 0; run < RUNS; run += 1) {
    // Each part secured and plaintext back to back, which one first alternating from run to run: a shared
    // machine's drift, and anything the first of a pair leaves the second (page cache, a warmer JIT), fall
    // on both alike.
    const turns = run % 2 === 0 ? MEASURED_BROKERS : [...MEASURED_BROKERS].reverse();
    if (PARTS.has('read')) {
      for (const broker of turns) {
        series.get(broker.role)!.read.push(await readCeiling(broker, run));
        log(`run ${run + 1} (a) read ceiling, ${broker.role}: ${series.get(broker.role)!.read.at(-1)} events/s`);
      }
    }
    if (PARTS.has('projection')) {
      for (const broker of turns) {
        const projected = await projection(broker);
        const into = series.get(broker.role)!;
        into.projection.push(projected.rate);
        into.projectionNodeUs.push(projected.cpu.nodeUsPerEvent);
        into.projectionPostgresUs.push(projected.cpu.postgresUsPerEvent);
        log(
          `run ${run + 1} projection (rebuild), ${broker.role}: ${projected.rate} events/s; CPU per event: ` +
            `node ${projected.cpu.nodeUsPerEvent} µs, PostgreSQL backends ${projected.cpu.postgresUsPerEvent} µs`,
        );
      }
    }
    // No Kafka in it: measured once per run, for the ceiling of the same moment.
    if (PARTS.has('copy')) {
      write.push(await writeCeiling());
      const { rate: copyRate, postgresUsPerEvent } = write.at(-1)!;
      log(`run ${run + 1} (b) write ceiling: ${copyRate} events/s; PostgreSQL ${postgresUsPerEvent} µs per event`);
    }
    if (PARTS.has('plain')) {
      for (const broker of turns) {
        series.get(broker.role)!.plain.push(await plainNest(broker, run));
        const plainRate = series.get(broker.role)!.plain.at(-1);
        log(`run ${run + 1} (c) plain NestJS, ${broker.role}: ${plainRate} events/s on ${PLAIN_EVENTS} events`);
      }
    }
  }
  const secured = series.get('secured')!;
  const plaintext = series.get('plaintext');
  /** The secured figure under its own name (the product's), the plaintext one beside it as `<name>_plaintext`. */
  const pair = (name: string, values: (of: Series) => number[]) => ({
    [name]: figure(values(secured)),
    ...(plaintext ? { [`${name}_plaintext`]: figure(values(plaintext)) } : {}),
  });
  const projected = median(secured.projection);
  const plain = median(secured.plain);
  const readMedian = median(secured.read);
  const writeMedian = median(write.map((w) => w.rate));
  const lowerCeiling = readMedian !== null && writeMedian !== null ? Math.min(readMedian, writeMedian) : null;
  const result = {
    name: 'ledger',
    machine: benchMachine('shared 2-core machine; broker, PostgreSQL and the benchmark on the same host'),
    ...benchProvenance(),
    runs: RUNS,
    events: EVENTS,
    plainEvents: PLAIN_EVENTS,
    postingsPerEvent: 8,
    entriesPerEvent: 9,
    kafka: {
      figures: BROKERS.secured.describe('ledger-projector'),
      plaintextFigures: BROKERS.plaintext?.describe('ledger-projector') ?? null,
    },
    figures: {
      ...pair('projection', (of) => of.projection),
      ...(plaintext ? { security_cost_pct: securityCost(secured.projection, plaintext.projection) } : {}),
      ...pair('readCeilingKafkajs', (of) => of.read),
      writeCeilingCopy: figure(write.map((w) => w.rate)),
      ...pair('plainNestjsRepository', (of) => of.plain),
    },
    cpuMicrosecondsPerEvent: {
      projectionNode: median(secured.projectionNodeUs),
      projectionPostgres: median(secured.projectionPostgresUs),
      ...(plaintext ? { projectionNode_plaintext: median(plaintext.projectionNodeUs) } : {}),
      ...(plaintext ? { projectionPostgres_plaintext: median(plaintext.projectionPostgresUs) } : {}),
      writeCeilingPostgres: median(write.map((w) => w.postgresUsPerEvent)),
    },
    ratios: {
      projectionOverPlain: projected && plain ? +(projected / plain).toFixed(1) : null,
      projectionOverLowerCeiling: projected && lowerCeiling ? +(projected / lowerCeiling).toFixed(2) : null,
    },
  };
  if (WRITE_RESULTS) writeFileSync(RESULTS_PATH, `${JSON.stringify(result, null, 2)}\n`);
  log(JSON.stringify({ figures: result.figures, cpuMicrosecondsPerEvent: result.cpuMicrosecondsPerEvent }));
  log(WRITE_RESULTS ? `wrote ${RESULTS_PATH}` : '(BENCH_WRITE=0: results file not written)');
  process.exit(0);
}

main().catch((error) => {
  console.error(`bench:ledger: ${(error as Error).stack}`);
  process.exit(1);
});
