// Proves that the gateway answers 503 with Retry-After, and writes nothing, while Kafka is down: on a
// broker of its own (so the shared test broker is never disturbed) the gateway acknowledges one event,
// the broker is stopped, a single event and a batch are refused with 503 and readiness fails; the
// broker is then started again on the same data and holds the acknowledged event and none of the refused.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { startKafka, type RunningKafka } from '@tributary/kafka-provisioner';
import { catalogFor } from '@tributary/contracts';
import { createTestDatabase, eventually, uniqueName, type TestDatabase } from '@tributary/testing';
import {
  freeBrokerPort,
  headersOf,
  keyRepository,
  post,
  readPartitionUntil,
  scope,
  startGateway,
  type RunningGateway,
} from './gateway-harness';

const inference = (inferenceId: string) => ({
  eventId: `evt-${randomUUID()}`,
  inferenceId,
  occurredAt: 1_760_000_000_000,
  modelId: 'model-1',
  agentId: null,
  consumerId: 'consumer-1',
  asset: 'USDC',
  feeMinor: 1_000,
  attributions: [],
  method: 'gradient-similarity/v1',
  latencyMs: null,
});

describe('the gateway while Kafka is down', () => {
  const name = `gw-down-${randomUUID().slice(0, 8)}`;
  const prefix = `${uniqueName('gwdown')}.`;
  const inferences = catalogFor(prefix).topics.inferences.name;
  let port: number;
  let kafka: RunningKafka | undefined;
  let database: TestDatabase;
  let gateway: RunningGateway | undefined;
  let key: string;

  beforeAll(async () => {
    port = await freeBrokerPort();
    kafka = await startKafka({ port, name });
    database = await createTestDatabase('gateway_down');
    const keys = await keyRepository(database.url);
    key = (await keys.repository.create(scope('producer-down'))).key;
    await keys.close();
    gateway = await startGateway(
      {
        ...kafka.clientEnv('operator'),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        GATEWAY_ACK_TIMEOUT_MS: '3000',
        GATEWAY_RETRY_AFTER_S: '7',
        GATEWAY_INSTANCE_ID: uniqueName('down'),
      },
      'gateway-broker-down',
    );
  });

  afterAll(async () => {
    await gateway?.process.stop();
    await kafka?.stop();
    await database?.drop();
    if (kafka) rmSync(kafka.dataDir, { recursive: true, force: true });
  });

  const inferenceId = `inference-${randomUUID()}`;
  const acknowledged = inference(inferenceId);
  const refusedSingle = inference(inferenceId);
  const refusedBatch = [inference(inferenceId), inference(`inference-${randomUUID()}`)];

  it('answers 503 with Retry-After for a single event and a batch, and readiness fails', async () => {
    const accepted = await post(`${gateway!.baseUrl}/events/InferenceCompleted`, acknowledged, key);
    expect(accepted.status).toBe(202);

    await kafka!.stop();
    const single = await post(`${gateway!.baseUrl}/events/InferenceCompleted`, refusedSingle, key);
    expect(single.status).toBe(503);
    expect(single.body.error).toBe('unavailable');
    expect(Number(single.headers.get('retry-after'))).toBeGreaterThanOrEqual(7);
    const batch = await post(
      `${gateway!.baseUrl}/events/batch`,
      { events: refusedBatch.map((data) => ({ type: 'InferenceCompleted', data })) },
      key,
    );
    expect(batch.status).toBe(503);
    expect(batch.headers.get('retry-after')).not.toBeNull();
    const ready = await fetch(`${gateway!.baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable', database: 'up' });
  });

  it('once Kafka is back, holds the acknowledged event and none of the refused, whose ids are free to retry', async () => {
    // A new gateway process: nothing the old one held in memory can reach the broker once it is back.
    await gateway!.process.stop();
    kafka = await startKafka({ port, name });
    gateway = await startGateway(
      {
        ...kafka.clientEnv('operator'),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        GATEWAY_INSTANCE_ID: uniqueName('down'),
      },
      'gateway-broker-back',
    );
    const retried = await eventually(async () => {
      const attempt = await post(`${gateway!.baseUrl}/events/InferenceCompleted`, refusedSingle, key);
      expect(attempt.status).toBe(202);
      return attempt;
    }, 30_000);
    expect(retried.body).toMatchObject({ topic: inferences, replayed: false });
    // Every event above has the same key, so one partition holds them in order: the refused ones would sit between.
    const messages = await readPartitionUntil(
      kafka.clientEnv('operator'),
      inferences,
      retried.body.partition,
      (message) => headersOf(message).ce_id === refusedSingle.eventId,
    );
    expect(messages.map((message) => headersOf(message).ce_id)).toEqual([acknowledged.eventId, refusedSingle.eventId]);
  });
});
