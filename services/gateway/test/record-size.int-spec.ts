// Proves the gateway's size bounds on the real broker (issue 18, "every record fits"): an event whose
// Kafka record would be larger than the gateway may send is a 413 naming the limit, while valid events
// sent at the same moment, which the group commit would have put in one produce request larger than a
// record batch may be, are each acknowledged (202) where they say; and a batch larger than one produce
// request still lands whole, as one transaction.
import { randomUUID } from 'node:crypto';
import { catalogFor, topicCatalog } from '@tributary/contracts';
import { ensureTopics, keyPartition } from '@tributary/messaging';
import { createTestDatabase, testBrokers, uniqueName, withAdmin, type TestDatabase } from '@tributary/testing';
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

/** The produce request size this gateway runs with: below a topic's 1 MiB, so an event the schema accepts can exceed it. */
const REQUEST_BYTES_MAX = 524_288;
const PARTITIONS = 6;
/** U+754C, three bytes in UTF-8. */
const WIDE = '界';

/** A contribution id at the schema's maximum length (256), nearly all three-byte characters: about 770 bytes on the wire. */
const wideId = (index: number) => {
  const head = `c${index}-`;
  return head + WIDE.repeat(256 - head.length);
};

/** An InferenceCompleted whose encoded record is about `bytes` long, keyed by `inferenceId`. */
const inferenceOfSize = (inferenceId: string, bytes: number) => ({
  eventId: `evt-${randomUUID()}`,
  inferenceId,
  occurredAt: 1_760_000_000_000,
  modelId: 'model-1',
  agentId: null,
  consumerId: 'consumer-1',
  asset: 'USDC',
  feeMinor: '1000',
  attributions: Array.from({ length: Math.min(1_000, Math.ceil(bytes / 772)) }, (_, index) => ({
    contributionId: wideId(index),
    scorePpm: 1_000,
  })),
  method: 'influence/v1',
  latencyMs: null,
});

function idsOnPartition(partition: number, stem: string, count: number): string[] {
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n += 1)
    if (keyPartition(`${stem}-${n}`, PARTITIONS) === partition) ids.push(`${stem}-${n}`);
  return ids;
}

describe('the gateway and record sizes', () => {
  const prefix = `${uniqueName('gwsize')}.`;
  const producerId = `producer-${randomUUID().slice(0, 8)}`;
  let database: TestDatabase;
  let keys: { repository: ApiKeyRepository; close(): Promise<void> };
  let gateway: RunningGateway;
  let key: string;

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalogFor(prefix)), 1));
    database = await createTestDatabase('gateway_size');
    keys = await keyRepository(database.url);
    key = (await keys.repository.create(scope(producerId))).key;
    gateway = await startGateway(
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        GATEWAY_REQUEST_BYTES_MAX: String(REQUEST_BYTES_MAX),
        GATEWAY_KEY_CACHE_TTL_MS: '0',
        GATEWAY_INSTANCE_ID: uniqueName('size'),
      },
      'gateway-size',
    );
  });

  afterAll(async () => {
    await gateway?.process.stop();
    await keys?.close();
    await database?.drop();
  });

  it('answers 413 naming the limit for an event too large to send, while concurrent valid events in the same group commit are each 202', async () => {
    const [oversizeId, ...validIds] = idsOnPartition(3, `inference-${randomUUID().slice(0, 8)}`, 9);
    const oversize = inferenceOfSize(oversizeId!, 600_000);
    // Eight events of ~300 KB to one partition: together ~2.4 MB, more than one record batch may hold (1 MiB).
    const valid = validIds.map((id) => inferenceOfSize(id, 300_000));
    const url = `${gateway.baseUrl}/events/InferenceCompleted`;
    const replies = await Promise.all([post(url, oversize, key), ...valid.map((event) => post(url, event, key))]);

    const [refused, ...accepted] = replies;
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ statusCode: 413, error: 'too_large' });
    expect(refused.body.message).toContain(String(REQUEST_BYTES_MAX));
    expect(refused.body.issues?.[0]).toMatchObject({ rule: 'recordTooLarge' });
    expect(accepted.map((reply) => reply.status)).toEqual(valid.map(() => 202));

    // Each valid event is in Kafka where its answer says; the refused one is not.
    const last = accepted.reduce((latest, reply) =>
      BigInt(reply.body.offset) > BigInt(latest.body.offset) ? reply : latest,
    );
    const messages = await readPartitionUntil(
      process.env,
      last.body.topic,
      last.body.partition,
      (message) => message.offset === last.body.offset,
      60_000,
    );
    const landed = new Map(messages.map((message) => [headersOf(message).ce_id, message.offset]));
    for (const [index, reply] of accepted.entries()) expect(landed.get(valid[index]!.eventId)).toBe(reply.body.offset);
    expect(landed.has(oversize.eventId)).toBe(false);
  }, 180_000);

  it('lands a batch larger than one produce request whole, in one transaction', async () => {
    const ids = idsOnPartition(1, `inference-${randomUUID().slice(0, 8)}`, 4);
    const events = ids.map((id) => ({ type: 'InferenceCompleted', data: inferenceOfSize(id, 400_000) }));
    const reply = await post(`${gateway.baseUrl}/events/batch`, { events }, key);
    expect(reply.status).toBe(202);
    const results = reply.body.results as Array<{ eventId: string; partition: number; offset: string }>;
    expect(results.map((result) => result.eventId)).toEqual(events.map((event) => event.data.eventId));
    const last = results[results.length - 1]!;
    const messages = await readPartitionUntil(
      process.env,
      `${prefix}tributary.inferences`,
      last.partition,
      (message) => message.offset === last.offset,
      60_000,
    );
    const landed = new Map(messages.map((message) => [headersOf(message).ce_id, message.offset]));
    for (const result of results) expect(landed.get(result.eventId)).toBe(result.offset);
  }, 120_000);
});
