// Proves the gateway's ingest contract on the real broker and database, one status at a time: 202 only
// with the event in Kafka where the answer says (ce_source naming the key's producer), 400 listing every
// offending field or naming the service that alone publishes a refused type, 401 and 403 from API keys
// and their scopes, 409 for a reused event id, the original result for a retry, 413 for an oversized
// body, and batches that land whole or not at all. Absence from Kafka is proved by publishing a marker
// with the same key afterwards and reading the partition up to it.
import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { catalogFor, fromRecord, topicCatalog, type EventType } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { TributaryProducer } from '@tributary/producer';
import {
  createTestDatabase,
  testBrokers,
  testClientOptions,
  uniqueName,
  withAdmin,
  type TestDatabase,
} from '@tributary/testing';
import { sourceOf } from '../src/auth/api-key';
import type { ApiKeyRepository } from '../src/auth/api-key.store';
import {
  headersOf,
  keyRepository,
  post,
  readPartitionUntil,
  scope,
  startGateway,
  type RunningGateway,
} from './gateway-harness';

const BODY_BYTES_MAX = 65_536;
const BATCH_EVENTS_MAX = 50;

const inference = (overrides: Record<string, unknown> = {}) => ({
  eventId: `evt-${randomUUID()}`,
  inferenceId: `inference-${randomUUID()}`,
  occurredAt: 1_760_000_000_000,
  modelId: 'model-own',
  agentId: 'agent-1',
  consumerId: 'consumer-1',
  asset: 'USDC',
  feeMinor: '9007199254740993', // beyond 2^53: exact only as a string
  attributions: [{ contributionId: 'contribution-1', scorePpm: 600_000 }],
  method: 'gradient-similarity/v1',
  latencyMs: 120,
  ...overrides,
});

const datanet = (overrides: Record<string, unknown> = {}) => ({
  eventId: `evt-${randomUUID()}`,
  datanetId: 'datanet-own',
  occurredAt: 1_760_000_000_000,
  ownerId: 'owner-1',
  name: 'Own datanet',
  license: 'CC-BY-4.0',
  curatorShareBps: 1_000,
  ...overrides,
});

/** The three payout events of one payout, as JSON on the wire (int64 as decimal strings). */
const payoutEvents = (accountId: string) => {
  const payoutId = `payout-${randomUUID()}`;
  const common = () => ({ eventId: `evt-${randomUUID()}`, payoutId, accountId, occurredAt: 1_760_000_000_000 });
  return [
    { type: 'PayoutRequested', data: { ...common(), asset: 'USDC', amountMinor: '450000', epoch: 7 } },
    { type: 'PayoutSettled', data: { ...common(), rail: 'onchain:base', reference: '0x5e1f00d' } },
    { type: 'PayoutFailed', data: { ...common(), reason: 'rail timeout' } },
  ] as const;
};

describe('the gateway ingest endpoints', () => {
  const prefix = `${uniqueName('gw')}.`;
  const topics = catalogFor(prefix).topics;
  const producerId = `producer-${randomUUID().slice(0, 8)}`;
  let database: TestDatabase;
  let keys: { repository: ApiKeyRepository; close(): Promise<void> };
  let gateway: RunningGateway;
  let fullKey: string;
  let scopedKey: string;

  const events = (type: string) => `${gateway.baseUrl}/events/${type}`;

  /** Publishes a marker with the same record key after `refusedEventId`, and says whether Kafka holds the refused one before it. */
  async function landedBefore(
    type: EventType,
    keyFields: Record<string, unknown>,
    refusedEventIds: readonly string[],
  ): Promise<string[]> {
    const marker = type === 'InferenceCompleted' ? inference(keyFields) : datanet(keyFields);
    const accepted = await post(events(type), marker, fullKey);
    expect(accepted.status).toBe(202);
    const messages = await readPartitionUntil(
      process.env,
      accepted.body.topic,
      accepted.body.partition,
      (message) => headersOf(message).ce_id === marker.eventId,
    );
    expect(messages.map((message) => headersOf(message).ce_id)).toContain(marker.eventId);
    return messages.map((message) => headersOf(message).ce_id!).filter((eventId) => refusedEventIds.includes(eventId));
  }

  beforeAll(async () => {
    // The gateway creates only the topics it writes; the payout marker below needs the payouts topic too.
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalogFor(prefix)), 1));
    database = await createTestDatabase('gateway');
    keys = await keyRepository(database.url);
    fullKey = (await keys.repository.create(scope(producerId))).key;
    scopedKey = (
      await keys.repository.create(
        scope(`${producerId}-scoped`, {
          eventTypes: ['InferenceCompleted', 'DatanetCreated'],
          datanetIds: ['datanet-own'],
          modelIds: ['model-own'],
        }),
      )
    ).key;
    gateway = await startGateway(
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        GATEWAY_BODY_BYTES_MAX: String(BODY_BYTES_MAX),
        GATEWAY_BATCH_EVENTS_MAX: String(BATCH_EVENTS_MAX),
        GATEWAY_KEY_CACHE_TTL_MS: '0',
        GATEWAY_INSTANCE_ID: uniqueName('ingest'),
      },
      'gateway-ingest',
    );
  });

  afterAll(async () => {
    await gateway?.process.stop();
    await keys?.close();
    await database?.drop();
  });

  describe('202', () => {
    it('answers only once the event is in Kafka, where it says, with ce_source naming the producer and the amount exact', async () => {
      const sent = inference();
      const reply = await post(events('InferenceCompleted'), sent, fullKey);
      expect(reply.status).toBe(202);
      expect(reply.body).toMatchObject({
        eventId: sent.eventId,
        topic: topics.inferences.name,
        source: sourceOf(producerId),
        replayed: false,
      });
      const messages = await readPartitionUntil(
        process.env,
        reply.body.topic,
        reply.body.partition,
        (message) => message.offset === reply.body.offset,
      );
      const landed = messages.find((message) => message.offset === reply.body.offset)!;
      expect(headersOf(landed)).toMatchObject({
        ce_id: sent.eventId,
        ce_source: sourceOf(producerId),
        ce_subject: sent.inferenceId,
      });
      const decoded = fromRecord(landed.value, headersOf(landed));
      expect(decoded.data).toMatchObject({
        eventId: sent.eventId,
        feeMinor: 9_007_199_254_740_993n,
        occurredAt: 1_760_000_000_000n,
      });
    });

    it('fills an omitted nullable field with its null default', async () => {
      const { agentId: _omitted, ...withoutAgent } = inference();
      const reply = await post(events('InferenceCompleted'), withoutAgent, fullKey);
      expect(reply.status).toBe(202);
    });
  });

  describe('400', () => {
    it('lists every offending field with its rule, and sends nothing', async () => {
      const sent = inference({
        feeMinor: 1.5,
        asset: '',
        attributions: [{ contributionId: 'c', scorePpm: 2_000_000 }],
        method: 'x'.repeat(129),
        surprise: true,
      });
      delete (sent as Record<string, unknown>)['consumerId'];
      const reply = await post(events('InferenceCompleted'), sent, fullKey);
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe('invalid');
      const rules = (reply.body.issues as Array<{ path: string; rule: string }>).map(
        (issue) => `${issue.path}:${issue.rule}`,
      );
      expect(rules).toEqual(
        expect.arrayContaining([
          'feeMinor:wrongType',
          'asset:minLength',
          'attributions[0].scorePpm:max',
          'method:maxLength',
          'surprise:unknownField',
          'consumerId:missingField',
        ]),
      );
      await expect(
        landedBefore('InferenceCompleted', { inferenceId: sent.inferenceId }, [sent.eventId]),
      ).resolves.toEqual([]);
    });

    it('refuses an unknown event type, a decision type and malformed JSON, naming what is wrong', async () => {
      expect((await post(events('NoSuchEvent'), inference(), fullKey)).body.issues).toEqual([
        expect.objectContaining({ path: 'eventType', rule: 'unknownEventType' }),
      ]);
      const decision = await post(events('InferenceAttributed'), inference(), fullKey);
      expect(decision.status).toBe(400);
      expect(decision.body.issues).toEqual([expect.objectContaining({ path: 'eventType', rule: 'internalEventType' })]);
      expect(decision.body.message).toContain('InferenceAttributed is published by the attribution service only');
      const malformed = await post(events('InferenceCompleted'), '{"eventId": ', fullKey);
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toBe('malformed_json');
    });

    it('refuses every payout event type, alone or in a batch, naming the payouts service; sends nothing', async () => {
      const accountId = `contributor:${randomUUID()}`;
      const refused = payoutEvents(accountId);
      for (const { type, data } of refused) {
        const reply = await post(events(type), data, fullKey);
        expect(reply.status).toBe(400);
        expect(reply.body).toMatchObject({ statusCode: 400, error: 'invalid' });
        expect(reply.body.issues).toEqual([expect.objectContaining({ path: 'eventType', rule: 'internalEventType' })]);
        expect(reply.body.message).toContain(`${type} is published by the payouts service only`);
      }
      const companion = inference();
      const refusedItem = expect.objectContaining({ path: 'events[1].type', rule: 'internalEventType' });
      const mixed = [{ type: 'InferenceCompleted', data: companion }, refused[0]];
      const batch = await post(events('batch'), { events: mixed }, fullKey);
      expect(batch.status).toBe(400);
      expect(batch.body.issues).toEqual([refusedItem]);
      // The gateway cannot publish the marker here, since it refuses every payout type, so the marker is
      // written straight to Kafka as the payouts service would, with the same record key (the account).
      const payouts = await TributaryProducer.connect({
        ...testClientOptions('gateway-spec-payouts'),
        source: 'urn:tributary:payouts',
        topicPrefix: prefix,
      });
      const marker = { ...payoutEvents(accountId)[0].data, amountMinor: 1n, occurredAt: 1_760_000_000_000n };
      const landed = await payouts.publish('PayoutRequested', marker).finally(() => payouts.disconnect());
      expect(landed.topic).toBe(topics.payouts.name);
      const isMarker = (message: KafkaMessage) => headersOf(message).ce_id === marker.eventId;
      const messages = await readPartitionUntil(process.env, landed.topic, landed.partition, isMarker);
      const eventIds = messages.map((message) => headersOf(message).ce_id);
      expect(eventIds).toContain(marker.eventId);
      const refusedIds: readonly string[] = refused.map((event) => event.data.eventId);
      expect(eventIds.filter((eventId) => refusedIds.includes(eventId!))).toEqual([]);
      const { inferenceId, eventId } = companion;
      await expect(landedBefore('InferenceCompleted', { inferenceId }, [eventId])).resolves.toEqual([]);
    });
  });

  describe('401', () => {
    it('refuses a request without a key, with an unknown key and with a revoked key', async () => {
      expect((await post(events('InferenceCompleted'), inference())).status).toBe(401);
      expect((await post(events('InferenceCompleted'), inference(), `trb_000000000000_${'A'.repeat(43)}`)).status).toBe(
        401,
      );
      const revoked = await keys.repository.create(scope(`${producerId}-revoked`));
      expect((await post(events('InferenceCompleted'), inference(), revoked.key)).status).toBe(202);
      await expect(keys.repository.revoke(revoked.keyId)).resolves.toBe(true);
      const reply = await post(events('InferenceCompleted'), inference(), revoked.key);
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toBe('Bearer');
    });
  });

  describe('403', () => {
    it('refuses an event type, a model or a datanet outside the key scope, and sends nothing', async () => {
      const otherModel = inference({ modelId: 'model-someone-else' });
      const reply = await post(events('InferenceCompleted'), otherModel, scopedKey);
      expect(reply.status).toBe(403);
      expect(reply.body.issues).toEqual([expect.objectContaining({ path: 'modelId', rule: 'modelNotAllowed' })]);
      const otherDatanet = await post(
        events('DatanetCreated'),
        datanet({ datanetId: 'datanet-someone-else' }),
        scopedKey,
      );
      expect(otherDatanet.body.issues).toEqual([
        expect.objectContaining({ path: 'datanetId', rule: 'datanetNotAllowed' }),
      ]);
      const otherType = await post(
        events('ModelRetired'),
        { eventId: 'e', modelId: 'model-own', occurredAt: 1, reason: null },
        scopedKey,
      );
      expect(otherType.status).toBe(403);
      expect(otherType.body.issues).toEqual([expect.objectContaining({ rule: 'eventTypeNotAllowed' })]);
      expect((await post(events('InferenceCompleted'), inference(), scopedKey)).status).toBe(202);
      await expect(
        landedBefore('InferenceCompleted', { inferenceId: otherModel.inferenceId }, [otherModel.eventId]),
      ).resolves.toEqual([]);
    });
  });

  describe('idempotency', () => {
    it('answers a retry with the same id and body with the original result, and Kafka holds the event once', async () => {
      const sent = inference();
      const first = await post(events('InferenceCompleted'), sent, fullKey);
      expect(first.status).toBe(202);
      // The same event spelled differently in JSON (a number where a string was, keys reordered) is the same event.
      const respelled = { ...Object.fromEntries(Object.entries(sent).reverse()), occurredAt: String(sent.occurredAt) };
      const retry = await post(events('InferenceCompleted'), respelled, fullKey);
      expect(retry.status).toBe(202);
      expect(retry.body).toEqual({ ...first.body, replayed: true });
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      await expect(
        landedBefore('InferenceCompleted', { inferenceId: sent.inferenceId }, [sent.eventId]),
      ).resolves.toEqual([sent.eventId]);
    });

    it('answers 409 for the same id with a different body, or from another producer, and sends nothing', async () => {
      const sent = inference();
      expect((await post(events('InferenceCompleted'), sent, fullKey)).status).toBe(202);
      const changed = await post(events('InferenceCompleted'), { ...sent, feeMinor: '1' }, fullKey);
      expect(changed.status).toBe(409);
      expect(changed.body.issues).toEqual([expect.objectContaining({ path: 'eventId', rule: 'eventIdReused' })]);
      const otherProducer = await post(events('InferenceCompleted'), sent, scopedKey);
      expect(otherProducer.status).toBe(409);
      await expect(
        landedBefore('InferenceCompleted', { inferenceId: sent.inferenceId }, [sent.eventId]),
      ).resolves.toEqual([sent.eventId]);
    });
  });

  describe('413', () => {
    it('refuses a body over GATEWAY_BODY_BYTES_MAX before parsing it', async () => {
      const reply = await post(
        events('InferenceCompleted'),
        inference({ method: 'x'.repeat(BODY_BYTES_MAX) }),
        fullKey,
      );
      expect(reply.status).toBe(413);
      expect(reply.body.error).toBe('too_large');
    });
  });

  describe('batches', () => {
    it('lands a batch of mixed events at the offsets it reports', async () => {
      const batch = [
        { type: 'DatanetCreated', data: datanet() },
        { type: 'InferenceCompleted', data: inference() },
        { type: 'InferenceCompleted', data: inference() },
        {
          type: 'ContributionValidated',
          data: {
            eventId: `evt-${randomUUID()}`,
            contributionId: 'contribution-1',
            occurredAt: 1,
            validatorId: 'v',
            decision: 'ACCEPTED',
            qualityScoreBps: 9_000,
            reason: null,
          },
        },
      ];
      const reply = await post(events('batch'), { events: batch }, fullKey);
      expect(reply.status).toBe(202);
      expect(reply.body.results.map((result: { eventId: string }) => result.eventId)).toEqual(
        batch.map((item) => item.data.eventId),
      );
      for (const result of reply.body.results as Array<{
        topic: string;
        partition: number;
        offset: string;
        eventId: string;
      }>) {
        const messages = await readPartitionUntil(
          process.env,
          result.topic,
          result.partition,
          (message) => message.offset === result.offset,
        );
        expect(headersOf(messages.find((message) => message.offset === result.offset)!).ce_id).toBe(result.eventId);
      }
    });

    it('sends none of a batch when one event is invalid, and names it by its index', async () => {
      const valid = inference();
      const invalid = inference({ feeMinor: -5 });
      const reply = await post(
        events('batch'),
        {
          events: [
            { type: 'InferenceCompleted', data: valid },
            { type: 'InferenceCompleted', data: invalid },
          ],
        },
        fullKey,
      );
      expect(reply.status).toBe(400);
      expect(reply.body.issues).toEqual([expect.objectContaining({ path: 'events[1].data.feeMinor', rule: 'min' })]);
      await expect(
        landedBefore('InferenceCompleted', { inferenceId: valid.inferenceId }, [valid.eventId]),
      ).resolves.toEqual([]);
    });

    it('sends none of a batch when one event is outside the key scope', async () => {
      const valid = inference();
      const reply = await post(
        events('batch'),
        {
          events: [
            { type: 'InferenceCompleted', data: valid },
            { type: 'DatanetCreated', data: datanet({ datanetId: 'datanet-other' }) },
          ],
        },
        scopedKey,
      );
      expect(reply.status).toBe(403);
      expect(reply.body.issues).toEqual([expect.objectContaining({ path: 'events[1].data.datanetId' })]);
      await expect(
        landedBefore('InferenceCompleted', { inferenceId: valid.inferenceId }, [valid.eventId]),
      ).resolves.toEqual([]);
    });

    it('replays a retried batch whole, and refuses a batch over the limit or repeating an id', async () => {
      const batch = {
        events: [
          { type: 'InferenceCompleted', data: inference() },
          { type: 'DatanetCreated', data: datanet() },
        ],
      };
      const first = await post(events('batch'), batch, fullKey);
      const retry = await post(events('batch'), batch, fullKey);
      expect(retry.status).toBe(202);
      expect(retry.body.results).toEqual(first.body.results.map((result: object) => ({ ...result, replayed: true })));
      const tooMany = await post(
        events('batch'),
        {
          events: Array.from({ length: BATCH_EVENTS_MAX + 1 }, () => ({
            type: 'InferenceCompleted',
            data: inference(),
          })),
        },
        fullKey,
      );
      expect(tooMany.status).toBe(400);
      expect(tooMany.body).toMatchObject({ error: 'batch_too_large', issues: [{ path: 'events', rule: 'maxItems' }] });
      const repeated = inference();
      const twice = await post(
        events('batch'),
        {
          events: [
            { type: 'InferenceCompleted', data: repeated },
            { type: 'InferenceCompleted', data: repeated },
          ],
        },
        fullKey,
      );
      expect(twice.body.issues).toEqual([
        expect.objectContaining({ path: 'events[1].data.eventId', rule: 'duplicateEventId' }),
      ]);
    });
  });

  describe('operations', () => {
    it('is ready with Kafka and the database, and exports accepted, rejected-by-reason and latency metrics', async () => {
      const ready = await fetch(`${gateway.baseUrl}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', database: 'up', kafka: { brokers: 1 } });
      const metrics = await (await fetch(`${gateway.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(
        /gateway_events_accepted_total\{event_type="InferenceCompleted",mode="single",replayed="false"\} \d+/,
      );
      for (const reason of ['invalid', 'unauthenticated', 'forbidden', 'conflict', 'too_large']) {
        expect(metrics).toContain(`gateway_requests_rejected_total{reason="${reason}"}`);
      }
      expect(metrics).toMatch(/gateway_request_duration_seconds_bucket\{le="0.05",route="single",status="202"\} \d+/);
    });

    it('documents one operation per event type, with the schema limits, in the OpenAPI document', async () => {
      const document = (await (await fetch(`${gateway.baseUrl}/docs/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
        components: { schemas: Record<string, any> };
      };
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining(['/events/InferenceCompleted', '/events/DatanetCreated', '/events/batch', '/schemas']),
      );
      for (const refused of ['InferenceAttributed', 'PayoutRequested', 'PayoutSettled', 'PayoutFailed']) {
        expect(Object.keys(document.paths)).not.toContain(`/events/${refused}`);
      }
      expect(document.components.schemas['InferenceCompleted'].properties.method).toMatchObject({
        type: 'string',
        maxLength: 128,
      });
    });
  });
});
