// Proves the attribution service end to end on a real KRaft broker and PostgreSQL, run as its own OS process: it decides inferences by the policy from the table state it folds, applies the as-of ordering rule on broker time when a validation is appended after the inference, dead-letters poison while the partition goes on, decides a duplicate publish once, explains a decision over HTTP and the CLI, and through repeated kill -9 and a second instance joining and leaving leaves exactly one decision per inference on the read_committed attributions topic, equal to the policy's.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { type KafkaMessage, type Producer } from 'kafkajs';
import { decideAttribution, type AttributionInput } from '@tributary/attribution';
import {
  catalogFor,
  deadLetterTopicName,
  deadLetterTopicSpec,
  fromRecord,
  toRecord,
  topicCatalog,
  type EventData,
  type EventType,
  type InferenceAttributed,
  type InferenceCompleted,
} from '@tributary/contracts';
import { DLQ_HEADERS, ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  eventually,
  readTopic,
  startServiceProcess,
  testKafka,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';

const MAIN = 'services/attribution/src/main.ts';
/** Published in KILL_SLICES slices, a kill landing while each but the last is decided. */
const INFERENCE_COUNT = 4_000;
const KILL_SLICES = 4;
const ATTRIBUTIONS_PER_INFERENCE = 8;
const CONTRIBUTION_COUNT = 200;

describe('the attribution service', () => {
  const prefix = `${uniqueName('t')}.`;
  const catalog = catalogFor(prefix);
  const { topics, groups } = catalog;
  let database: TestDatabase;
  let producer: Producer;
  const instances: ServiceProcess[] = [];
  let decisions: Map<string, InferenceAttributed[]>;
  const T0 = Date.now() - 60_000;

  const env = () => ({
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    DATABASE_URL: database.url,
    TRIBUTARY_TOPIC_PREFIX: prefix,
    ATTRIBUTION_HTTP_PORT: '0',
    ATTRIBUTION_FEE_MINOR_MAX: '1000000000',
    ATTRIBUTION_ATTRIBUTIONS_MAX: '20',
    CONSUMER_BATCH_SIZE_MAX: '200',
    // The broker's minimum: a killed member leaves the group within seconds, so restarts rejoin quickly.
    CONSUMER_SESSION_TIMEOUT_MS: '6000',
    CONSUMER_REBALANCE_TIMEOUT_MS: '6000',
    CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
  });
  const start = async (): Promise<ServiceProcess> => {
    const instance = startServiceProcess(MAIN, env(), 'attribution');
    instances.push(instance);
    await eventually(() => expect(instance.output()).toContain('attribution ready'), 90_000);
    return instance;
  };
  const httpPort = (instance: ServiceProcess) => Number(/explain at http:\/\/[^:]+:(\d+)/.exec(instance.output())![1]);

  const send = (topic: string, records: Array<{ type: EventType; data: unknown; timestampMs?: number }>) =>
    producer.send({
      topic,
      acks: -1,
      messages: records.map(({ type, data, timestampMs }) => {
        const record = toRecord(type, data as EventData<typeof type>, {
          source: 'urn:tributary:test',
          topicPrefix: prefix,
        });
        return { key: record.key, value: record.value, headers: record.headers, timestamp: String(timestampMs ?? T0) };
      }),
    });
  const base = (_id: string) => ({ eventId: `evt-${randomUUID()}`, occurredAt: BigInt(T0) });
  const inference = (inferenceId: string, fields: Partial<InferenceCompleted> = {}): InferenceCompleted => ({
    ...base(inferenceId),
    inferenceId,
    modelId: 'model-1',
    agentId: null,
    consumerId: 'carol',
    asset: 'USDC',
    feeMinor: 1_000_003n,
    attributions: [],
    method: 'influence/v1',
    latencyMs: null,
    ...fields,
  });
  const contributionId = (index: number) => `contribution-${index}`;
  const attributionsOf = (index: number) =>
    Array.from({ length: ATTRIBUTIONS_PER_INFERENCE }, (_, slot) => ({
      contributionId: contributionId((index * 7 + slot * 13) % (CONTRIBUTION_COUNT + 5)),
      scorePpm: BigInt(((index + slot) % 9) * 1_000 + 17),
    }));

  /** The policy's own answer for an inference of the bulk run, from the state the test published. */
  const expectedCredits = (data: InferenceCompleted) => {
    const input: AttributionInput = {
      inference: {
        inferenceId: data.inferenceId,
        modelId: data.modelId,
        consumerId: data.consumerId,
        asset: data.asset,
        feeMinor: data.feeMinor,
        attributions: data.attributions.map((a) => ({
          contributionId: a.contributionId,
          scorePpm: Number(a.scorePpm),
        })),
        method: data.method,
      },
      model: {
        modelId: 'model-1',
        owner: 'mona',
        datanetIds: ['datanet-1'],
        split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
      },
      datanets: [{ datanetId: 'datanet-1', owner: 'olga', curatorShareBps: 2_000 }],
      contributions: Array.from({ length: CONTRIBUTION_COUNT }, (_, index) => ({
        contributionId: contributionId(index),
        datanetId: 'datanet-1',
        contributor: `contributor-${index % 50}`,
        status: index % 10 === 3 ? ('REJECTED' as const) : ('ACCEPTED' as const),
        revoked: index % 25 === 4,
      })),
      protocolId: 'tributary',
    };
    return decideAttribution(input)
      .postings.slice(1)
      .map((p) => `${p.account}=${p.amountMinor}`);
  };

  /** Every decision on the attributions topic, read_committed, grouped by inference id. */
  const readDecisions = async (countAtLeast: number, timeoutMs = 120_000) => {
    const messages = await readTopic(topics.attributions.name, countAtLeast, timeoutMs);
    // Read on a little longer: a doubled decision would arrive after the expected count.
    const more = await readTopic(topics.attributions.name, countAtLeast + 1, 3_000);
    const all = more.length > messages.length ? more : messages;
    const byId = new Map<string, InferenceAttributed[]>();
    for (const message of all) {
      const decoded = fromRecord(message.value, headersOf(message));
      if (decoded.type !== 'InferenceAttributed') throw new Error(`unexpected ${decoded.type}`);
      // The record's ce_time and the event's occurredAt name the same instant: when it was decided.
      expect(decoded.envelope.time).toBe(new Date(Number(decoded.data.occurredAt)).toISOString());
      byId.set(decoded.data.inferenceId, [...(byId.get(decoded.data.inferenceId) ?? []), decoded.data]);
    }
    return byId;
  };

  beforeAll(async () => {
    database = await createTestDatabase('attribution');
    await withAdmin((admin) =>
      ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${groups.attribution}.tables`)], 1),
    );
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await send(topics.datanets.name, [
      {
        type: 'DatanetCreated',
        data: {
          ...base('d'),
          datanetId: 'datanet-1',
          ownerId: 'olga',
          name: 'Recipes',
          license: 'CC-BY-4.0',
          curatorShareBps: 2_000,
        },
      },
    ]);
    const contributions = Array.from({ length: CONTRIBUTION_COUNT }, (_, index) => index);
    await send(
      topics.contributions.name,
      contributions.flatMap((index) => [
        {
          type: 'ContributionSubmitted' as const,
          data: {
            ...base('c'),
            contributionId: contributionId(index),
            datanetId: 'datanet-1',
            contributorId: `contributor-${index % 50}`,
            contentHash: 'sha256:00',
            sizeBytes: 10n,
            license: 'CC-BY-4.0',
          },
        },
        {
          type: 'ContributionValidated' as const,
          data: {
            ...base('v'),
            contributionId: contributionId(index),
            validatorId: 'val',
            decision: index % 10 === 3 ? 'REJECTED' : 'ACCEPTED',
            qualityScoreBps: 9_000,
            reason: null,
          },
        },
        ...(index % 25 === 4
          ? [
              {
                type: 'ContributionRevoked' as const,
                data: { ...base('r'), contributionId: contributionId(index), reason: 'request' },
              },
            ]
          : []),
      ]),
    );
    await send(topics.models.name, [
      {
        type: 'ModelRegistered',
        data: {
          ...base('m'),
          modelId: 'model-1',
          ownerId: 'mona',
          baseModel: 'base',
          datanetIds: ['datanet-1'],
          split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
        },
      },
    ]);
    await start();
  }, 180_000);

  afterAll(async () => {
    for (const instance of instances) await instance.stop();
    await producer?.disconnect();
    await database?.drop();
  });

  it('decides an inference by the policy, publishes it with the inputs it saw, and explains it over HTTP and the CLI', async () => {
    const data = inference('single-1', { attributions: attributionsOf(1) });
    await send(topics.inferences.name, [{ type: 'InferenceCompleted', data }]);
    decisions = await readDecisions(1, 60_000);
    const [decision] = decisions.get('single-1')!;
    expect(
      decision!.postings.filter((p) => p.amountMinor !== 0n).map((p) => `${p.accountId}=${p.amountMinor}`),
    ).toEqual(expectedCredits(data));
    expect(decision!.postings.reduce((sum, p) => sum + p.amountMinor, 0n)).toBe(data.feeMinor);
    expect(decision!.contributionsSeen).toHaveLength(ATTRIBUTIONS_PER_INFERENCE);
    expect(decision!.datanetsSeen).toEqual([
      { datanetId: 'datanet-1', ownerId: 'olga', curatorShareBps: 2_000, minDataBps: 0, allowedModelOwners: null },
    ]);
    expect(decision!.orderingRule).toContain('as-of-append-time/v2');
    expect(decision!.eventId).toBe('attributed:single-1');

    const response = await fetch(`http://127.0.0.1:${httpPort(instances[0]!)}/inferences/single-1/explain`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { lines: string[] };
    expect(body.lines[0]).toContain('Inference single-1 (model model-1, method influence/v1)');
    expect(body.lines).toContain('Fee: consumer:carol pays 1000003 minor units of USDC.');
    expect(body.lines.at(-1)).toBe('Recomputed from the recorded inputs: the credits match the published decision.');
    expect((await fetch(`http://127.0.0.1:${httpPort(instances[0]!)}/inferences/nope/explain`)).status).toBe(404);

    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'services/attribution/src/cli.ts',
        'explain',
        'single-1',
      ],
      { env: { ...process.env, ...env(), TS_NODE_TRANSPILE_ONLY: 'true' } },
    );
    expect(stdout.split('\n').filter(Boolean)).toEqual(body.lines);
  });

  it("decides by the state as of the inference's append time: a validation appended after it is not seen, whatever the timestamps", async () => {
    const nowMs = Date.now();
    await send(topics.contributions.name, [
      {
        type: 'ContributionSubmitted',
        data: {
          ...base('c'),
          contributionId: 'late-1',
          datanetId: 'datanet-1',
          contributorId: 'laura',
          contentHash: 'sha256:01',
          sizeBytes: 1n,
          license: 'MIT',
        },
        timestampMs: nowMs,
      },
    ]);
    const attributions = [{ contributionId: 'late-1', scorePpm: 500_000n }];
    // Appended before the validation, one of them timestamped after it: the broker's append time decides.
    await send(topics.inferences.name, [
      { type: 'InferenceCompleted', data: inference('order-after', { attributions }), timestampMs: nowMs + 2_000 },
      { type: 'InferenceCompleted', data: inference('order-before', { attributions }), timestampMs: nowMs + 500 },
    ]);
    await send(topics.contributions.name, [
      {
        type: 'ContributionValidated',
        data: {
          ...base('v'),
          contributionId: 'late-1',
          validatorId: 'val',
          decision: 'ACCEPTED',
          qualityScoreBps: 1,
          reason: null,
        },
        timestampMs: nowMs + 1_000,
      },
    ]);
    // Appended after the validation, timestamped before it: it sees the validation.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await send(topics.inferences.name, [
      { type: 'InferenceCompleted', data: inference('order-later', { attributions }), timestampMs: nowMs },
    ]);
    decisions = await readDecisions(4, 60_000);
    for (const inferenceId of ['order-after', 'order-before']) {
      const decided = decisions.get(inferenceId)![0]!;
      expect(decided.rejected).toEqual([{ contributionId: 'late-1', reason: 'NOT_ACCEPTED' }]);
      expect(decided.contributionsSeen[0]!.status).toBe('PENDING');
    }
    const later = decisions.get('order-later')![0]!;
    expect(later.rejected).toEqual([]);
    expect(later.contributionsSeen[0]!.status).toBe('ACCEPTED');
    expect(later.postings.some((p) => p.accountId === 'contributor:laura' && p.amountMinor > 0n)).toBe(true);
  });

  it('sends poison inferences to the DLQ with their reasons and still decides the next one', async () => {
    await producer.send({
      topic: topics.inferences.name,
      acks: -1,
      messages: [{ key: 'poison-0', value: '{not avro' }],
    });
    await send(topics.inferences.name, [
      { type: 'InferenceCompleted', data: inference('poison-1', { modelId: 'model-unknown' }) },
      { type: 'InferenceCompleted', data: inference('poison-2', { feeMinor: 1_000_000_001n }) },
      {
        type: 'InferenceCompleted',
        data: inference('poison-3', {
          attributions: Array.from({ length: 21 }, (_, i) => ({ contributionId: `x${i}`, scorePpm: 1n })),
        }),
      },
      { type: 'InferenceCompleted', data: inference('after-poison') },
    ]);
    const dead = await readTopic(deadLetterTopicName(groups.attribution), 4, 60_000);
    const reasons = new Map(
      dead.map((message) => [message.key!.toString(), message.headers![DLQ_HEADERS.reason]!.toString()]),
    );
    expect(reasons.get('poison-0')).toContain('content-type');
    expect(reasons.get('poison-1')).toContain('UNKNOWN_MODEL model-unknown');
    expect(reasons.get('poison-2')).toBe('feeMinor: at most 1000000000, got 1000000001');
    expect(reasons.get('poison-3')).toBe('attributions: at most 20 entries, got 21');
    for (const message of dead)
      expect(message.headers![DLQ_HEADERS.sourceTopic]!.toString()).toBe(topics.inferences.name);
    decisions = await readDecisions(5, 60_000);
    expect(decisions.has('after-poison')).toBe(true);
    expect([...decisions.keys()].filter((id) => id.startsWith('poison'))).toEqual([]);

    // Operators see the same on /metrics: rejections by the field their reason names, decisions counted.
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort(instances[0]!)}/metrics`)).text();
    expect(metrics).toContain('attribution_records_rejected_total{field="feeMinor"} 1');
    expect(metrics).toContain('attribution_records_rejected_total{field="attributions"} 1');
    expect(metrics).toContain('attribution_records_rejected_total{field="modelId"} 1');
    expect(Number(/^attribution_decisions_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
  });

  // Twice as it was, once under another event id: other content under a used inferenceId, which the
  // DLQ takes (duplicate-inferences.int-spec); one decision either way.
  it('decides an inference published three times once (one copy with other content)', async () => {
    const data = inference('dup-1', { attributions: attributionsOf(2) });
    await send(topics.inferences.name, [{ type: 'InferenceCompleted', data }]);
    await send(topics.inferences.name, [
      { type: 'InferenceCompleted', data },
      { type: 'InferenceCompleted', data: { ...data, eventId: 'evt-other' } },
    ]);
    await send(topics.inferences.name, [{ type: 'InferenceCompleted', data: inference('dup-marker') }]);
    decisions = await readDecisions(6, 60_000);
    expect(decisions.has('dup-marker')).toBe(true);
    expect(decisions.get('dup-1')).toHaveLength(1);
  });

  /** Exactly one decision per inference, each equal to the policy's answer: what a clean run gives. */
  const expectDecidedOnceByPolicy = (inferences: readonly InferenceCompleted[], totalBefore: number) => {
    expect([...decisions].filter(([, list]) => list.length > 1).map(([id]) => id)).toEqual([]);
    expect(inferences.filter((data) => !decisions.has(data.inferenceId)).map((data) => data.inferenceId)).toEqual([]);
    expect(decisions.size).toBe(totalBefore + inferences.length);
    for (const data of inferences) {
      const [decision] = decisions.get(data.inferenceId)!;
      expect(
        decision!.postings.filter((p) => p.amountMinor !== 0n).map((p) => `${p.accountId}=${p.amountMinor}`),
      ).toEqual(expectedCredits(data));
    }
  };
  const bulkOf = (name: string, count: number) =>
    Array.from({ length: count }, (_, index) =>
      inference(`${name}-${index}`, { attributions: attributionsOf(index), feeMinor: BigInt(1_000 + index) }),
    );
  const publishBulk = async (inferences: readonly InferenceCompleted[], chunkSize: number, pauseMs = 0) => {
    for (let offset = 0; offset < inferences.length; offset += chunkSize) {
      await send(
        topics.inferences.name,
        inferences.slice(offset, offset + chunkSize).map((data) => ({ type: 'InferenceCompleted' as const, data })),
      );
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };

  it(`decides ${INFERENCE_COUNT} inferences exactly once through repeated kill -9 at random points, as a clean run would`, async () => {
    const before = decisions.size;
    const bulk = bulkOf('bulk', INFERENCE_COUNT);
    // The kills land while the stream is being decided by construction: each slice is published, the
    // service is killed at a random point once it has started deciding that slice, and the next slice
    // goes out only after that, so no kill finds the stream not yet started or already over.
    const sliceSize = INFERENCE_COUNT / KILL_SLICES;
    const decidedAtCrash: number[] = [];
    for (let slice = 0; slice < KILL_SLICES; slice += 1) {
      await publishBulk(bulk.slice(slice * sliceSize, (slice + 1) * sliceSize), 500);
      if (slice === KILL_SLICES - 1) break;
      await eventually(
        async () => expect(await decidedCount(database.url)).toBeGreaterThan(before + slice * sliceSize),
        120_000,
        50,
      );
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 300)));
      await instances.at(-1)!.crash();
      decidedAtCrash.push(await decidedCount(database.url));
      await start();
    }
    decisions = await readDecisions(before + INFERENCE_COUNT, 180_000);
    for (const count of decidedAtCrash) expect(count).toBeGreaterThan(before);
    expectDecidedOnceByPolicy(bulk, before);
  }, 600_000);

  it('decides every inference once while a second instance joins the group and the first leaves mid-stream', async () => {
    const before = decisions.size;
    const first = instances.at(-1)!;
    const bulk = bulkOf('pair', 3_000);
    await publishBulk(bulk.slice(0, 1_000), 250, 300);
    const second = await start();
    await publishBulk(bulk.slice(1_000, 2_000), 250, 300);
    await first.stop();
    await publishBulk(bulk.slice(2_000), 250, 100);
    decisions = await readDecisions(before + bulk.length, 120_000);
    expectDecidedOnceByPolicy(bulk, before);
    // Both members held partitions of the group at some point: the second one claimed some while the first ran.
    expect(second.output()).toMatch(/claimed .*inferences\[\d\]/);
    expect(first.output()).toMatch(/claimed .*inferences\[\d\]/);
  }, 300_000);
});

function headersOf(message: KafkaMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));
}

async function decidedCount(url: string): Promise<number> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url, options: '-c search_path=attribution' });
  await client.connect();
  try {
    return Number((await client.query('SELECT count(*) FROM decisions')).rows[0].count);
  } finally {
    await client.end();
  }
}
