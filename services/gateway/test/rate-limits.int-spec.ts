// Proves the gateway's rate limits on the real broker and database: 10,000 requests with random
// well-formed keys from one address within seconds get 401s and then 429s with Retry-After, the database
// sees at most the address's budget of failed key look-ups (read from gateway_key_lookups_total), and a
// valid producer on another address keeps getting 202s throughout. A key that sends more than its
// per-key limit gets 429 while another key is still served; health and metrics are never limited.
import { randomBytes } from 'node:crypto';
import { createTestDatabase, requestFrom, testBrokers, uniqueName, type TestDatabase } from '@tributary/testing';
import type { ApiKeyRepository } from '../src/auth/api-key.store';
import {
  inference,
  keyRepository,
  post,
  scope,
  startGateway,
  type Reply,
  type RunningGateway,
} from './gateway-harness';

const FLOOD_REQUESTS = 10_000;
const FLOOD_CONCURRENCY = 50;
/** Failed look-ups one address may cause per window; the window outlasts the test, so this bounds the flood. */
const AUTH_FAILURES_PER_ADDRESS = 20;
const AUTH_FAILURE_WINDOW_MS = 120_000;
const RATE_LIMIT_PER_KEY = 300;
const RATE_LIMIT_WINDOW_MS = 120_000;

/** A key of the right shape that no one issued: it passes the format check, so only the database could refuse it. */
const randomKey = () => `trb_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;

/** POST from a chosen local address (all of 127.0.0.0/8 is loopback): the gateway sees another client. */
function postFrom(localAddress: string, url: string, body: unknown, key: string): Promise<Reply> {
  const payload = JSON.stringify(body);
  return requestFrom(localAddress, url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      authorization: `Bearer ${key}`,
    },
    body: payload,
  });
}

/** The value of one sample of the gateway's /metrics, 0 when the series does not exist yet. */
async function metric(baseUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('the gateway rate limits', () => {
  let database: TestDatabase;
  let keys: { repository: ApiKeyRepository; close(): Promise<void> };
  let gateway: RunningGateway;
  let validKey: string;
  let greedyKey: string;
  let otherKey: string;
  let burstKey: string;

  beforeAll(async () => {
    database = await createTestDatabase('gateway');
    keys = await keyRepository(database.url);
    validKey = (await keys.repository.create(scope('producer-valid'))).key;
    greedyKey = (await keys.repository.create(scope('producer-greedy'))).key;
    otherKey = (await keys.repository.create(scope('producer-other'))).key;
    burstKey = (await keys.repository.create(scope('producer-burst'))).key;
    gateway = await startGateway(
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: `${uniqueName('gw')}.`,
        GATEWAY_AUTH_FAILURES_PER_ADDRESS: String(AUTH_FAILURES_PER_ADDRESS),
        GATEWAY_AUTH_FAILURE_WINDOW_MS: String(AUTH_FAILURE_WINDOW_MS),
        GATEWAY_RATE_LIMIT_PER_KEY: String(RATE_LIMIT_PER_KEY),
        GATEWAY_RATE_LIMIT_WINDOW_MS: String(RATE_LIMIT_WINDOW_MS),
        GATEWAY_INSTANCE_ID: uniqueName('limits'),
      },
      'gateway-limits',
    );
  });

  afterAll(async () => {
    await gateway?.process.stop();
    await keys?.close();
    await database?.drop();
  });

  it('answers a flood of random keys with 429s after a bounded number of look-ups, and keeps serving a valid key', async () => {
    const url = `${gateway.baseUrl}/events/InferenceCompleted`;
    // Warm: the first event creates the topic, and the valid key's look-up is cached from here on.
    expect((await postFrom('127.0.0.2', url, inference(), validKey)).status).toBe(202);
    const lookupsBefore = await metric(gateway.baseUrl, 'gateway_key_lookups_total{outcome="unknown"}');

    const statuses = new Map<number, number>();
    let retryAfterMissing = 0;
    let wrongBodies = 0;
    let sent = 0;
    const started = Date.now();
    const flooder = async () => {
      while (sent < FLOOD_REQUESTS) {
        sent += 1;
        const reply = await post(url, inference(), randomKey());
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (reply.status === 429) {
          const retryAfter = Number(reply.headers.get('retry-after'));
          if (!(retryAfter >= 1)) retryAfterMissing += 1;
          if (reply.body?.statusCode !== 429 || reply.body?.error !== 'rate_limited') wrongBodies += 1;
        }
      }
    };
    const validStatuses: number[] = [];
    let flooding = true;
    const validCaller = async () => {
      while (flooding) {
        validStatuses.push((await postFrom('127.0.0.2', url, inference(), validKey)).status);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const valid = validCaller();
    await Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, flooder));
    flooding = false;
    await valid;
    const floodSeconds = (Date.now() - started) / 1_000;

    const lookups = (await metric(gateway.baseUrl, 'gateway_key_lookups_total{outcome="unknown"}')) - lookupsBefore;
    const refused = statuses.get(429) ?? 0;
    process.stdout.write(
      `flood: ${FLOOD_REQUESTS} random keys in ${floodSeconds.toFixed(1)} s: ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `${lookups} failed key look-ups; valid caller: ${validStatuses.filter((status) => status === 202).length}/${validStatuses.length} accepted\n`,
    );
    // The budget bounds the look-ups: each one takes from it before it runs, so concurrency cannot overshoot.
    expect(lookups).toBeLessThanOrEqual(AUTH_FAILURES_PER_ADDRESS);
    expect(statuses.get(401)).toBeLessThanOrEqual(AUTH_FAILURES_PER_ADDRESS);
    expect(refused).toBeGreaterThanOrEqual(FLOOD_REQUESTS - AUTH_FAILURES_PER_ADDRESS);
    expect(retryAfterMissing).toBe(0);
    expect(wrongBodies).toBe(0);
    expect(await metric(gateway.baseUrl, 'gateway_requests_rejected_total{reason="rate_limited"}')).toBe(refused);
    expect(validStatuses.length).toBeGreaterThan(0);
    expect(validStatuses.every((status) => status === 202)).toBe(true);

    // A live key not yet cached, from the flooded address, waits for the window like any unknown key there
    // (looking it up is what the budget forbids), while health and metrics stay open to that address.
    const waiting = await post(url, inference(), otherKey);
    expect(waiting.status).toBe(429);
    expect(waiting.body.message).toContain('GATEWAY_AUTH_FAILURES_PER_ADDRESS');
    expect((await fetch(`${gateway.baseUrl}/health/live`)).status).toBe(200);
    expect((await fetch(`${gateway.baseUrl}/metrics`)).status).toBe(200);
  }, 120_000);

  it('serves a burst with a valid key not yet cached with one look-up, however many arrive at once', async () => {
    // The first requests of a producer (or every request in flight when its cache entry expires) find no
    // cached key at the same moment: they share one look-up, so none spends the address's failure budget.
    const url = `${gateway.baseUrl}/events/InferenceCompleted`;
    const lookupsBefore = await metric(gateway.baseUrl, 'gateway_key_lookups_total{outcome="live"}');
    const burst = await Promise.all(
      Array.from({ length: AUTH_FAILURES_PER_ADDRESS * 3 }, () => postFrom('127.0.0.3', url, inference(), burstKey)),
    );
    expect(burst.map((reply) => reply.status)).toEqual(burst.map(() => 202));
    expect((await metric(gateway.baseUrl, 'gateway_key_lookups_total{outcome="live"}')) - lookupsBefore).toBe(1);
  }, 60_000);

  it('limits each key to its own budget: past it a 429 with Retry-After, while another key is served', async () => {
    const url = `${gateway.baseUrl}/events/InferenceCompleted`;
    // Invalid bodies are cheap for the test and still count: the limit is checked before the body is read.
    // From an address of its own: 127.0.0.1 used up its failed look-ups in the flood above.
    const replies: Reply[] = [];
    for (let index = 0; index <= RATE_LIMIT_PER_KEY; index += 1)
      replies.push(await postFrom('127.0.0.3', url, {}, greedyKey));
    expect(replies.slice(0, RATE_LIMIT_PER_KEY).every((reply) => reply.status === 400)).toBe(true);
    const last = replies[RATE_LIMIT_PER_KEY]!;
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last.body).toEqual({
      statusCode: 429,
      error: 'rate_limited',
      message: expect.stringContaining('GATEWAY_RATE_LIMIT_PER_KEY'),
    });
    expect((await postFrom('127.0.0.3', url, inference(), otherKey)).status).toBe(202);
  }, 60_000);
});
