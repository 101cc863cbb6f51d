/**
 * Benchmark of the attribution service (`npm run bench:attribution`): decisions per second with Kafka
 * transactions on, inferences with 8 attributions each, the service run as its own process exactly as
 * `npm start` runs it. Side figures show what bounds it: the pure policy alone, and the policy plus the
 * Avro encoding of the decision, both in this one Node process. Writes bench/results/attribution.json.
 *
 * Uses KAFKA_BROKERS when set, else bench/with-broker.ts starts a broker of its own; DATABASE_URL (default the
 * local tributary_test database's server). Each run uses a fresh topic prefix and a fresh database.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { decideAttribution, type AttributionInput } from '@tributary/attribution';
import { catalogFor, deadLetterTopicSpec, toRecord, topicCatalog, type EventData, type EventType, type InferenceCompleted } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { dropDatabase, ensurePostgres, withDatabase } from '@tributary/local-stack';
import { startServiceProcess } from '@tributary/testing';
import { toAttributedEvent } from '../../services/attribution/src/decision/wire';

const INFERENCE_COUNT = Number(process.env.BENCH_INFERENCES ?? 40_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ATTRIBUTIONS = 8;
const CONTRIBUTIONS = 2_000;
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tributary_test';
const TIMEOUT_MS = 600_000;

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
    inference: { ...data, attributions: data.attributions.map((a) => ({ contributionId: a.contributionId, scorePpm: Number(a.scorePpm) })) },
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
    if (encode) toRecord('InferenceAttributed', toAttributedEvent(decision, 'evt', 0n), { source: 'urn:bench' });
  }
  const elapsedMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
  return Math.round((count / elapsedMs) * 1_000);
}

async function serviceRate(): Promise<number> {
  const prefix = `bench.${randomUUID().slice(0, 8)}.`;
  const catalog = catalogFor(prefix);
  const databaseUrl = withDatabase(new URL(SERVER_URL), `bench_attribution_${randomUUID().slice(0, 8)}`);
  await ensurePostgres(databaseUrl);
  const kafka = new Kafka({ clientId: 'bench', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${catalog.groups.attribution}.tables`)], 1);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const timestamp = String(Date.now() - 60_000);
  const send = async (topic: string, type: EventType, items: unknown[]) => {
    for (let start = 0; start < items.length; start += 2_000) {
      await producer.send({
        topic,
        acks: -1,
        messages: items.slice(start, start + 2_000).map((data) => {
          const record = toRecord(type, data as EventData<typeof type>, { source: 'urn:bench', topicPrefix: prefix });
          return { key: record.key, value: record.value, headers: record.headers, timestamp };
        }),
      });
    }
  };
  const occurredAt = BigInt(Date.now());
  await send(catalog.topics.datanets.name, 'DatanetCreated', [
    { eventId: 'd', datanetId: 'datanet-1', occurredAt, ownerId: 'olga', name: 'n', license: 'MIT', curatorShareBps: 2_000 },
  ]);
  const contributionIds = Array.from({ length: CONTRIBUTIONS }, (_, index) => `contribution-${index}`);
  await send(catalog.topics.contributions.name, 'ContributionSubmitted', contributionIds.map((contributionId) => ({
    eventId: `s-${contributionId}`, contributionId, occurredAt, datanetId: 'datanet-1', contributorId: `contributor-${contributionId}`, contentHash: 'sha256:00', sizeBytes: 1n, license: 'MIT',
  })));
  await send(catalog.topics.contributions.name, 'ContributionValidated', contributionIds.map((contributionId) => ({
    eventId: `v-${contributionId}`, contributionId, occurredAt, validatorId: 'val', decision: 'ACCEPTED', qualityScoreBps: 1, reason: null,
  })));
  await send(catalog.topics.models.name, 'ModelRegistered', [
    { eventId: 'm', modelId: 'model-1', occurredAt, ownerId: 'mona', baseModel: 'b', datanetIds: ['datanet-1'], split },
  ]);
  await send(catalog.topics.inferences.name, 'InferenceCompleted', Array.from({ length: INFERENCE_COUNT }, (_, index) => inferenceData(index, occurredAt)));
  await producer.disconnect();

  const service = startServiceProcess('services/attribution/src/main.ts', {
    KAFKA_BROKERS: BROKERS.join(','),
    DATABASE_URL: databaseUrl,
    TRIBUTARY_TOPIC_PREFIX: prefix,
    ATTRIBUTION_HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
    // BENCH_CPU_PROF_DIR=<dir> writes a V8 CPU profile of the service process (on its SIGTERM exit) there.
    ...(process.env.BENCH_CPU_PROF_DIR
      ? { NODE_OPTIONS: `-r ${path.resolve(__dirname, 'cpu-profile.js')}`, BENCH_CPU_PROF_DIR: path.resolve(process.env.BENCH_CPU_PROF_DIR) }
      : {}),
  }, 'bench-attribution');
  const sql = new Client({ connectionString: databaseUrl, options: '-c search_path=attribution' });
  const groupId = catalog.groups.attribution;
  try {
    const deadline = Date.now() + TIMEOUT_MS;
    let firstAtMs: number | null = null;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`not done within ${TIMEOUT_MS} ms:\n${service.output().slice(-3_000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const committed = await committedTotal(admin, groupId, catalog.topics.inferences.name);
      if (committed > 0 && firstAtMs === null) firstAtMs = Date.now();
      if (committed >= INFERENCE_COUNT) {
        // From the first committed transaction to the last: start-up and group join are not counted.
        const elapsedMs = Date.now() - firstAtMs!;
        await sql.connect();
        const decided = Number((await sql.query('SELECT count(*) FROM decisions')).rows[0].count);
        if (decided !== INFERENCE_COUNT) throw new Error(`${decided} decisions stored, expected ${INFERENCE_COUNT}`);
        return Math.round((INFERENCE_COUNT / elapsedMs) * 1_000);
      }
    }
  } finally {
    await service.stop();
    await sql.end().catch(() => undefined);
    await admin.deleteTopics({ topics: topicCatalog(catalog).map((spec) => spec.name) }).catch(() => undefined);
    await admin.disconnect();
    await dropDatabase(databaseUrl).catch(() => undefined);
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

async function main(): Promise<void> {
  const service: number[] = [];
  const policy: number[] = [];
  const policyAndEncoding: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    policy.push(inProcessRate(false));
    policyAndEncoding.push(inProcessRate(true));
    service.push(await serviceRate());
    process.stdout.write(`run ${run + 1}: service ${service.at(-1)} decisions/s, policy ${policy.at(-1)}/s, policy+encoding ${policyAndEncoding.at(-1)}/s\n`);
  }
  const cpus = os.cpus();
  const result = {
    name: 'attribution',
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      note: 'shared 2-core machine; broker, PostgreSQL, the service and the benchmark on the same host',
    },
    runs: RUNS,
    inferences: INFERENCE_COUNT,
    attributionsPerInference: ATTRIBUTIONS,
    figures: {
      decisionsTransactional: figure(service, 'inferences/s'),
      policyOnlyOneThread: figure(policy, 'inferences/s'),
      policyAndAvroEncodingOneThread: figure(policyAndEncoding, 'inferences/s'),
    },
  };
  const file = path.resolve(__dirname, '../results/attribution.json');
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:attribution: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
