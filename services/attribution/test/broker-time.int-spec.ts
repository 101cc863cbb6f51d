// Attack test of issue 25 item 2 on a real broker and PostgreSQL, the service as its own process: the table
// topics and the inference topic stamp records with the broker's append time, so a producer's clock
// cannot move a table record across an inference. Hostile producers set every record's timestamp an hour
// off, in both directions: the records appended before an inference are all seen by its decision, those
// appended after it none, and the decision records and explains the rule as-of-append-time/v2.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { JOIN_RULES } from '@tributary/attribution';
import {
  catalogFor,
  deadLetterTopicSpec,
  fromRecord,
  toRecord,
  topicCatalog,
  type EventType,
  type InferenceAttributed,
} from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  readTopic,
  testKafka,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
  headersOf,
} from '@tributary/testing';
import { startAttribution } from './harness';

const HOUR_MS = 3_600_000;
/** Two appends a few milliseconds apart: within one millisecond the rule counts a table record as after. */
const apart = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('the ordering rule on broker time', () => {
  const prefix = `${uniqueName('brokertime')}.`;
  const catalog = catalogFor(prefix);
  const { topics, groups } = catalog;
  let database: TestDatabase;
  let producer: Producer;
  let instance: ServiceProcess | undefined;

  /** As a hostile producer publishes: the record's timestamp set explicitly, here an hour off. */
  const send = (topic: string, timestampMs: number, type: EventType, data: Record<string, unknown>) => {
    const record = toRecord(
      type,
      { eventId: `evt-${randomUUID()}`, occurredAt: BigInt(timestampMs), ...data } as never,
      { source: 'urn:tributary:producer:mallory', topicPrefix: prefix },
    );
    return producer.send({
      topic,
      acks: -1,
      messages: [{ key: record.key, value: record.value, headers: record.headers, timestamp: String(timestampMs) }],
    });
  };
  const inference = (inferenceId: string, timestampMs: number) =>
    send(topics.inferences.name, timestampMs, 'InferenceCompleted', {
      inferenceId,
      modelId: 'model-1',
      agentId: null,
      consumerId: 'carol',
      asset: 'USDC',
      feeMinor: 10_000n,
      attributions: [
        { contributionId: 'c-early', scorePpm: 500_000n },
        { contributionId: 'c-late', scorePpm: 500_000n },
      ],
      method: 'influence/v1',
      latencyMs: null,
    });
  const validated = (contributionId: string, timestampMs: number) =>
    send(topics.contributions.name, timestampMs, 'ContributionValidated', {
      contributionId,
      validatorId: 'val',
      decision: 'ACCEPTED',
      qualityScoreBps: 9_000,
      reason: null,
    });
  const decisionOf = async (inferenceId: string): Promise<InferenceAttributed> => {
    const messages = await readTopic(topics.attributions.name, (m) => m.key?.toString() === inferenceId, 90_000);
    const message = messages.find((candidate) => candidate.key?.toString() === inferenceId)!;
    const decoded = fromRecord(message.value, headersOf(message));
    if (decoded.type !== 'InferenceAttributed') throw new Error(`not a decision: ${decoded.type}`);
    return decoded.data;
  };
  const statuses = (decision: InferenceAttributed) =>
    Object.fromEntries(decision.contributionsSeen.map((seen) => [seen.contributionId, seen.status]));

  beforeAll(async () => {
    database = await createTestDatabase('attribution_broker_time');
    await withAdmin((admin) =>
      ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${groups.attribution}.tables`)], 1),
    );
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await instance?.stop();
    await producer?.disconnect();
    await database?.drop();
  });

  it('sees every table record appended before an inference and none appended after, whatever the producers clocks say', async () => {
    const nowMs = Date.now();
    const past = nowMs - HOUR_MS;
    const future = nowMs + HOUR_MS;
    // The world, backdated an hour (seen: appended before both inferences).
    await send(topics.datanets.name, past, 'DatanetCreated', {
      datanetId: 'datanet-1',
      ownerId: 'olga',
      name: 'Recipes',
      license: 'CC-BY-4.0',
      curatorShareBps: 2_000,
    });
    for (const [contributionId, contributorId] of [
      ['c-early', 'erin'],
      ['c-late', 'liam'],
    ] as const) {
      await send(topics.contributions.name, past, 'ContributionSubmitted', {
        contributionId,
        datanetId: 'datanet-1',
        contributorId,
        contentHash: 'sha256:00',
        sizeBytes: 10n,
        license: 'CC-BY-4.0',
      });
    }
    await send(topics.models.name, past, 'ModelRegistered', {
      modelId: 'model-1',
      ownerId: 'mona',
      baseModel: 'base',
      datanetIds: ['datanet-1'],
      split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
    });
    // Appended before inf-1, dated an hour ahead: under producer time inf-1 would not see it.
    await validated('c-early', future);
    await apart();
    // The inference itself claims to be an hour old.
    await inference('inf-1', past);
    await apart();
    // Appended after inf-1: one backdated an hour (under producer time inf-1 would see it), one dated ahead.
    await validated('c-late', past);
    await send(topics.contributions.name, future, 'ContributionRevoked', {
      contributionId: 'c-early',
      reason: 'withdrawn',
    });
    await apart();
    await inference('inf-2', future);

    // The broker stamped its own time on the inference, not the producer's.
    const [stored] = await readTopic(topics.inferences.name, (m) => m.key?.toString() === 'inf-1', 30_000);
    const stamped = Number(stored!.timestamp);
    expect(Math.abs(stamped - nowMs)).toBeLessThan(60_000);

    instance = await startAttribution(database.url, prefix, 'attribution-broker-time', {
      ATTRIBUTION_ORDERING_GRACE_MS: '20',
    });
    const first = await decisionOf('inf-1');
    expect(first.orderingRule).toBe(JOIN_RULES['as-of-append-time/v2'].text);
    expect(statuses(first)).toEqual({ 'c-early': 'ACCEPTED', 'c-late': 'PENDING' });
    expect(first.rejected).toEqual([{ contributionId: 'c-late', reason: 'NOT_ACCEPTED' }]);
    expect(first.postings.find((posting) => posting.accountId === 'contributor:erin')?.amountMinor).toBeGreaterThan(0n);

    const second = await decisionOf('inf-2');
    expect(statuses(second)).toEqual({ 'c-early': 'REVOKED', 'c-late': 'ACCEPTED' });
    expect(second.rejected).toEqual([{ contributionId: 'c-early', reason: 'REVOKED' }]);

    const port = Number(/explain at http:\/\/[^:]+:(\d+)/.exec(instance.output())![1]);
    const response = await fetch(`http://127.0.0.1:${port}/inferences/inf-1/explain`);
    const { lines } = (await response.json()) as { lines: string[] };
    expect(lines).toContain(JOIN_RULES['as-of-append-time/v2'].explanation);
    expect(lines.at(-1)).toBe('Recomputed from the recorded inputs: the credits match the published decision.');
  }, 180_000);
});
