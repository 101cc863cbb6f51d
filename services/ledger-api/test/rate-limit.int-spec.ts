// Proves the ledger API's per-address rate limit on the real service: past LEDGER_API_RATE_LIMIT_PER_ADDRESS
// requests in the window an address gets 429 with Retry-After in the API's error shape, counted on
// /metrics; another address is still served; X-Forwarded-For does not change the address unless
// HTTP_TRUST_PROXY_HOPS says a proxy sets it; health and metrics are never limited.
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

describe('the ledger API rate limit', () => {
  let database: TestDatabase;
  let api: ServiceProcess;
  let apiUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase('ledger_api_limits');
    api = startServiceProcess(
      'services/ledger-api/src/main.ts',
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: `${uniqueName('t')}.`,
        LEDGER_API_HTTP_PORT: '0',
        LEDGER_API_RATE_LIMIT_PER_ADDRESS: String(LIMIT),
        LEDGER_API_RATE_LIMIT_WINDOW_MS: '120000',
      },
      'ledger-api-limits',
    );
    await eventually(() => expect(api.output()).toMatch(/ledger-api ready at (http:\/\/\S+) as role/), 120_000);
    apiUrl = /ledger-api ready at (http:\/\/\S+) as role/.exec(api.output())![1]!.replace('[::1]', '127.0.0.1');
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  it('answers 429 with Retry-After past the limit, per address, spoof-proof, never on health or metrics', async () => {
    // A 400 (limit out of range) needs no ledger tables and still counts: the limit runs before the route.
    const accounts = `${apiUrl}/v1/accounts?limit=0`;
    for (let index = 0; index < LIMIT; index += 1) expect((await getFrom('127.0.0.1', accounts)).status).toBe(400);
    const refused = await getFrom('127.0.0.1', accounts);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body).toEqual({
      statusCode: 429,
      error: 'too_many_requests',
      message: expect.stringContaining('LEDGER_API_RATE_LIMIT_PER_ADDRESS'),
      issues: [{ field: '(rate)', rule: `at-most:${LIMIT}-per-120000ms` }],
    });
    // No trusted proxy is configured, so a forged X-Forwarded-For is still counted against the connection.
    expect((await getFrom('127.0.0.1', accounts, { 'x-forwarded-for': '10.1.2.3' })).status).toBe(429);
    expect((await getFrom('127.0.0.2', accounts)).status).toBe(400);
    expect((await getFrom('127.0.0.1', `${apiUrl}/health/live`)).status).toBe(200);
    const metrics = await getFrom('127.0.0.1', `${apiUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^ledger_api_requests_rate_limited_total 2$/m);
  }, 60_000);
});
