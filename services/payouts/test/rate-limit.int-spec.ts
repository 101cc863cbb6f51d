// Proves the payouts HTTP API's per-address rate limit on the real service: past
// PAYOUTS_RATE_LIMIT_PER_ADDRESS requests in the window an address gets 429 with Retry-After in the
// service's error shape, counted on /metrics; another address is still served; X-Forwarded-For does not
// change the address unless HTTP_TRUST_PROXY_HOPS says a proxy sets it; health and metrics are never limited.
import {
  createTestDatabase,
  eventually,
  getFrom,
  startServiceProcess,
  testBrokers,
  uniqueName,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';

const LIMIT = 5;

describe('the payouts HTTP rate limit', () => {
  let database: TestDatabase;
  let payouts: ServiceProcess;
  let baseUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase('payouts_limits');
    payouts = startServiceProcess(
      'services/payouts/src/main.ts',
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: `${uniqueName('t')}.`,
        PAYOUTS_HTTP_PORT: '0',
        PAYOUTS_RATE_LIMIT_PER_ADDRESS: String(LIMIT),
        PAYOUTS_RATE_LIMIT_WINDOW_MS: '120000',
      },
      'payouts-limits',
    );
    await eventually(
      () => expect(payouts.output()).toMatch(/payouts ready: statement at (http:\/\/\S+)\/accounts/),
      120_000,
    );
    baseUrl = /payouts ready: statement at (http:\/\/\S+)\/accounts/
      .exec(payouts.output())![1]!
      .replace('[::1]', '127.0.0.1');
  }, 180_000);

  afterAll(async () => {
    await payouts?.stop();
    await database?.drop();
  });

  it('answers 429 with Retry-After past the limit, per address, spoof-proof, never on health or metrics', async () => {
    const statement = `${baseUrl}/accounts/contributor:alice/payouts`;
    for (let index = 0; index < LIMIT; index += 1) expect((await getFrom('127.0.0.1', statement)).status).not.toBe(429);
    const refused = await getFrom('127.0.0.1', statement);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringContaining('PAYOUTS_RATE_LIMIT_PER_ADDRESS'),
    });
    // No trusted proxy is configured, so a forged X-Forwarded-For is still counted against the connection.
    expect((await getFrom('127.0.0.1', statement, { 'x-forwarded-for': '10.1.2.3' })).status).toBe(429);
    expect((await getFrom('127.0.0.2', statement)).status).not.toBe(429);
    expect((await getFrom('127.0.0.1', `${baseUrl}/health/live`)).status).toBe(200);
    const metrics = await getFrom('127.0.0.1', `${baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^payouts_requests_rate_limited_total 2$/m);
  }, 60_000);
});
