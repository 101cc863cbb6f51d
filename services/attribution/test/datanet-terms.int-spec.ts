// Attack tests of issue 19 item 5 on a real broker and PostgreSQL, the service as its own process: a model
// registered with dataBps 0 on a datanet whose owner asks at least 5000 and admits only her own models goes
// to the tables DLQ with the rule; a datanet tightening its terms refuses only inferences decided after the
// change (appended after it, whatever its timestamp says: the broker's append time decides); decisions record the terms
// and the operator's protocol share they used, and `explain` shows them.
import { randomUUID } from 'node:crypto';
import type { KafkaMessage, Producer } from 'kafkajs';
import {
  catalogFor,
  deadLetterTopicName,
  deadLetterTopicSpec,
  fromRecord,
  toRecord,
  topicCatalog,
  type EventType,
  type InferenceAttributed,
  type InferenceCompleted,
} from '@tributary/contracts';
import { DLQ_HEADERS, ensureTopics } from '@tributary/messaging';
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

const reasonOf = (message: KafkaMessage) => message.headers?.[DLQ_HEADERS.reason]?.toString() ?? '';

describe("datanet terms and the operator's protocol share", () => {
  const prefix = `${uniqueName('terms')}.`;
  const catalog = catalogFor(prefix);
  const { topics, groups } = catalog;
  const tablesDlq = deadLetterTopicName(`${groups.attribution}.tables`);
  const decisionsDlq = deadLetterTopicName(groups.attribution);
  let database: TestDatabase;
  let producer: Producer;
  let instance: ServiceProcess;
  const T0 = Date.now() - 120_000;
  /** When the owner of datanet-open tightens its terms. */
  const T_TIGHTEN = T0 + 30_000;

  const send = (
    topic: string,
    timestampMs: number,
    records: Array<{ type: EventType; data: Record<string, unknown> }>,
  ) =>
    producer.send({
      topic,
      acks: -1,
      messages: records.map(({ type, data }) => {
        const record = toRecord(
          type,
          { eventId: `evt-${randomUUID()}`, occurredAt: BigInt(timestampMs), ...data } as never,
          { source: 'urn:tributary:test', topicPrefix: prefix },
        );
        return { key: record.key, value: record.value, headers: record.headers, timestamp: String(timestampMs) };
      }),
    });
  const inference = (inferenceId: string, modelId: string, timestampMs: number) =>
    send(topics.inferences.name, timestampMs, [
      {
        type: 'InferenceCompleted',
        data: {
          inferenceId,
          modelId,
          agentId: null,
          consumerId: 'carol',
          asset: 'USDC',
          feeMinor: 10_000n,
          attributions: [{ contributionId: 'k-open', scorePpm: 1_000_000n }],
          method: 'influence/v1',
          latencyMs: null,
        } satisfies Omit<InferenceCompleted, 'eventId' | 'occurredAt'>,
      },
    ]);
  const decision = async (inferenceId: string): Promise<InferenceAttributed> => {
    const messages = await readTopic(
      topics.attributions.name,
      (message) => message.key?.toString() === inferenceId,
      60_000,
    );
    const message = messages.find((candidate) => candidate.key?.toString() === inferenceId)!;
    const decoded = fromRecord(message.value, headersOf(message));
    if (decoded.type !== 'InferenceAttributed') throw new Error(`not a decision: ${decoded.type}`);
    return decoded.data;
  };
  const deadLetter = async (topic: string, key: string): Promise<KafkaMessage> => {
    const messages = await readTopic(
      topic,
      (message) => message.key?.toString() === key && reasonOf(message) !== '',
      60_000,
    );
    return messages.find((message) => message.key?.toString() === key && reasonOf(message) !== '')!;
  };
  const httpPort = () => Number(/explain at http:\/\/[^:]+:(\d+)/.exec(instance.output())![1]);

  beforeAll(async () => {
    database = await createTestDatabase('attribution_terms');
    await withAdmin((admin) =>
      ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${groups.attribution}.tables`)], 1),
    );
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await send(topics.datanets.name, T0, [
      // Olga's datanet: models must give the data at least half, and only her own models may use it.
      {
        type: 'DatanetCreated',
        data: {
          datanetId: 'datanet-strict',
          ownerId: 'olga',
          name: 'Strict',
          license: 'CC-BY-4.0',
          curatorShareBps: 2_000,
          minDataBps: 5_000,
          allowedModelOwners: ['olga'],
        },
      },
      // Oscar's datanet: open terms (written without them, as a producer from before v2 would).
      {
        type: 'DatanetCreated',
        data: {
          datanetId: 'datanet-open',
          ownerId: 'oscar',
          name: 'Open',
          license: 'CC-BY-4.0',
          curatorShareBps: 1_000,
        },
      },
    ]);
    await send(topics.contributions.name, T0, [
      {
        type: 'ContributionSubmitted',
        data: {
          contributionId: 'k-open',
          datanetId: 'datanet-open',
          contributorId: 'dora',
          contentHash: 'sha256:00',
          sizeBytes: 10n,
          license: 'CC-BY-4.0',
        },
      },
      {
        type: 'ContributionValidated',
        data: {
          contributionId: 'k-open',
          validatorId: 'val',
          decision: 'ACCEPTED',
          qualityScoreBps: 9_000,
          reason: null,
        },
      },
    ]);
    // Mona registers a model on Oscar's datanet claiming no protocol share (the operator's policy takes its 10% anyway).
    await send(topics.models.name, T0 + 1, [
      {
        type: 'ModelRegistered',
        data: {
          modelId: 'model-fair',
          ownerId: 'mona',
          baseModel: 'base',
          datanetIds: ['datanet-open'],
          split: { protocolBps: 0, modelBps: 4_000, dataBps: 6_000 },
        },
      },
    ]);
    instance = await startAttribution(database.url, prefix, 'attribution-terms', { ATTRIBUTION_PROTOCOL_BPS: '1000' });
  }, 180_000);

  afterAll(async () => {
    await instance?.stop();
    await producer?.disconnect();
    await database?.drop();
  });

  it('sends a model with dataBps 0 on a datanet asking minDataBps 5000 and owned by someone else to the DLQ with the rule', async () => {
    // A decision as of T0 + 2000 waits until every table partition passed that time: the datanets are folded.
    await inference('inf-warm', 'model-fair', T0 + 2_000);
    await decision('inf-warm');
    // Mallory registers a model giving the data nothing on Olga's datanet.
    await send(topics.models.name, T0 + 2_500, [
      {
        type: 'ModelRegistered',
        data: {
          modelId: 'model-greedy',
          ownerId: 'mallory',
          baseModel: 'base',
          datanetIds: ['datanet-strict'],
          split: { protocolBps: 1_000, modelBps: 9_000, dataBps: 0 },
        },
      },
    ]);
    const letter = await deadLetter(tablesDlq, 'model-greedy');
    expect(reasonOf(letter)).toContain('DATANET_TERMS');
    expect(reasonOf(letter)).toContain(
      'datanet datanet-strict requires minDataBps 5000; model model-greedy gives dataBps 0',
    );
    expect(reasonOf(letter)).toContain(
      'datanet datanet-strict admits only model owners [olga] (allowedModelOwners); model model-greedy is owned by mallory',
    );
    // Never registered, so its inferences are not decided either.
    await inference('inf-greedy', 'model-greedy', T0 + 3_000);
    expect(reasonOf(await deadLetter(decisionsDlq, 'inf-greedy'))).toContain('UNKNOWN_MODEL');
  }, 120_000);

  it('refuses only the inferences decided after a datanet tightens its terms, and explains the terms each decision used', async () => {
    await inference('inf-before', 'model-fair', T0 + 5_000);
    const before = await decision('inf-before');
    expect(before.policyVersion).toBe(2);
    // The decision names its producer (the inference's ce_source): whose deposits back its credits.
    expect(before.producer).toBe('urn:tributary:test');
    expect(before.split).toEqual({ protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 });
    expect(before.datanetsSeen).toEqual([
      { datanetId: 'datanet-open', ownerId: 'oscar', curatorShareBps: 1_000, minDataBps: 0, allowedModelOwners: null },
    ]);
    expect(before.postings.find((posting) => posting.accountId === 'protocol:tributary')?.amountMinor).toBe(1_000n);

    // Oscar now asks models for at least 70% of each fee; model-fair gives 60%.
    await send(topics.datanets.name, T_TIGHTEN, [
      {
        type: 'DatanetUpdated',
        data: { datanetId: 'datanet-open', name: null, license: null, curatorShareBps: null, minDataBps: 7_000 },
      },
    ]);
    await inference('inf-after', 'model-fair', T_TIGHTEN + 5_000);
    // Published after the change, timestamped before it: the broker's append time decides, so the new terms apply.
    await inference('inf-late', 'model-fair', T0 + 10_000);

    const refused = reasonOf(await deadLetter(decisionsDlq, 'inf-after'));
    expect(refused).toContain('DATANET_TERMS');
    expect(refused).toContain('datanet datanet-open requires minDataBps 7000; model model-fair gives dataBps 6000');
    expect(reasonOf(await deadLetter(decisionsDlq, 'inf-late'))).toContain('DATANET_TERMS');

    const response = await fetch(`http://127.0.0.1:${httpPort()}/inferences/inf-before/explain`);
    expect(response.status).toBe(200);
    const { lines } = (await response.json()) as { lines: string[] };
    expect(lines).toContain(
      "Terms of datanet datanet-open used: minimum data share 0.00% (the model gives 60.00%), open to any model owner (the model's owner is mona).",
    );
    expect(lines).toContain(
      "Policy v2: the protocol's 10.00% is the operator's policy, the data share 60.00% is the model's own, the model owner keeps the remaining 30.00%.",
    );
    expect(lines).toContain('Recomputed from the recorded inputs: the credits match the published decision.');
  }, 180_000);
});
