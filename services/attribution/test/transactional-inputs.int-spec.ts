// Proves that inputs published in Kafka transactions (the gateway's batches, a producer's publishBatch)
// do not stall decisions, on the real broker: a transaction leaves a commit marker after its records,
// which no handler sees, and the table consumer must still count the partition as read to its end. The
// fold passes the marker in the very transaction that folds the records before it (versions, progress
// and stored offset together), so the deciders it wakes see the partition's end at once.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { catalogFor, fromRecord, topicCatalog, type InferenceAttributed } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { TributaryProducer } from '@tributary/producer';
import {
  createTestDatabase,
  eventually,
  readTopic,
  startServiceProcess,
  testBrokers,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
  testClientOptions,
} from '@tributary/testing';

describe('the attribution service given inputs published in transactions', () => {
  const prefix = `${uniqueName('tx')}.`;
  const catalog = catalogFor(prefix);
  let database: TestDatabase;
  let service: ServiceProcess;
  let producer: TributaryProducer;

  beforeAll(async () => {
    database = await createTestDatabase('attribution_tx');
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    producer = await TributaryProducer.connect({
      ...testClientOptions('tx-inputs-spec'),
      source: 'urn:tributary:test',
      topicPrefix: prefix,
      transactionalId: uniqueName('tx-inputs-spec'),
    });
    service = startServiceProcess(
      'services/attribution/src/main.ts',
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        ATTRIBUTION_HTTP_PORT: '0',
        ATTRIBUTION_ORDERING_GRACE_MS: '500',
        // A stall on the commit markers would show as a decision that waits this long; the spec waits far less.
        ATTRIBUTION_ORDERING_WAIT_MS_MAX: '120000',
        CONSUMER_SESSION_TIMEOUT_MS: '6000',
        CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
      },
      'attribution-tx',
    );
    await eventually(() => expect(service.output()).toContain('attribution ready'), 90_000);
  });

  afterAll(async () => {
    await service?.stop();
    await producer?.disconnect();
    await database?.drop();
  });

  it("folds a transaction's records and passes its commit marker in one database transaction", async () => {
    const id = randomUUID().slice(0, 8);
    const datanetId = `datanet-marker-${id}`;
    await producer.publishBatch([
      {
        type: 'DatanetCreated',
        data: {
          eventId: `dm-${id}`,
          datanetId,
          occurredAt: BigInt(Date.now()),
          ownerId: 'olga',
          name: 'markers',
          license: 'CC-BY-4.0',
          curatorShareBps: 1_000,
        },
      },
    ]);
    const topic = catalog.topics.datanets.name;
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const version = await eventually(async () => {
        const { rows } = await client.query<{ partition: number; offset: string; xmin: string }>(
          'SELECT partition, "offset"::text, xmin::text FROM attribution.entity_versions WHERE id = $1',
          [datanetId],
        );
        expect(rows).toHaveLength(1);
        return rows[0]!;
      }, 30_000);
      const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
      const high = offsets.find((entry) => entry.partition === version.partition)!.high;
      // The record, then its transaction's commit marker: the partition ends past both.
      expect(BigInt(high)).toBe(BigInt(version.offset) + 2n);
      const progress = await eventually(async () => {
        const { rows } = await client.query<{ next_offset: string; xmin: string }>(
          'SELECT next_offset::text, xmin::text FROM attribution.table_progress WHERE topic = $1 AND partition = $2',
          [topic, version.partition],
        );
        expect(rows[0]?.next_offset).toBe(high);
        return rows[0]!;
      }, 30_000);
      const { rows: stored } = await client.query<{ next_offset: string; xmin: string }>(
        'SELECT next_offset::text, xmin::text FROM attribution.consumer_offsets WHERE topic = $1 AND partition = $2',
        [topic, version.partition],
      );
      expect(stored[0]?.next_offset).toBe(high);
      // Written by the transaction that folded the record: no second write to pass the marker.
      expect(progress.xmin).toBe(version.xmin);
      expect(stored[0]?.xmin).toBe(version.xmin);
    } finally {
      await client.end();
    }
  });

  it('decides an inference promptly after its model, datanet and contribution arrived in transactions', async () => {
    const occurredAt = BigInt(Date.now());
    const id = randomUUID().slice(0, 8);
    await producer.publishBatch([
      {
        type: 'DatanetCreated',
        data: {
          eventId: `d-${id}`,
          datanetId: `datanet-${id}`,
          occurredAt,
          ownerId: 'olga',
          name: 'notes',
          license: 'CC-BY-4.0',
          curatorShareBps: 1_000,
        },
      },
      {
        type: 'ModelRegistered',
        data: {
          eventId: `m-${id}`,
          modelId: `model-${id}`,
          occurredAt,
          ownerId: 'mona',
          baseModel: 'base',
          datanetIds: [`datanet-${id}`],
          split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
        },
      },
      {
        type: 'ContributionSubmitted',
        data: {
          eventId: `cs-${id}`,
          contributionId: `contribution-${id}`,
          occurredAt,
          datanetId: `datanet-${id}`,
          contributorId: 'cora',
          contentHash: `sha256:${'a'.repeat(64)}`,
          sizeBytes: 10n,
          license: 'CC-BY-4.0',
        },
      },
    ]);
    await producer.publishBatch([
      {
        type: 'ContributionValidated',
        data: {
          eventId: `cv-${id}`,
          contributionId: `contribution-${id}`,
          occurredAt,
          validatorId: 'vic',
          decision: 'ACCEPTED',
          qualityScoreBps: 9_000,
          reason: null,
        },
      },
    ]);
    const inferenceId = `inference-${id}`;
    await producer.publishBatch([
      {
        type: 'InferenceCompleted',
        data: {
          eventId: `i-${id}`,
          inferenceId,
          occurredAt,
          modelId: `model-${id}`,
          agentId: null,
          consumerId: 'carl',
          asset: 'USDC',
          feeMinor: 10_000n,
          attributions: [{ contributionId: `contribution-${id}`, scorePpm: 1_000_000n }],
          method: 'influence/v1',
          latencyMs: null,
        },
      },
    ]);

    const startedMs = Date.now();
    const decided = await readTopic(
      catalog.topics.attributions.name,
      (message) => message.key?.toString() === inferenceId,
      30_000,
    );
    const message = decided.find((candidate) => candidate.key?.toString() === inferenceId);
    expect(message).toBeDefined();
    expect(Date.now() - startedMs).toBeLessThan(30_000);
    const headers = Object.fromEntries(
      Object.entries(message!.headers ?? {}).map(([name, value]) => [name, value?.toString()]),
    );
    const decision = fromRecord(message!.value, headers).data as InferenceAttributed;
    expect(decision.postings.find((posting) => posting.accountId === 'contributor:cora')?.amountMinor).toBe(5_400n);
  });
});
