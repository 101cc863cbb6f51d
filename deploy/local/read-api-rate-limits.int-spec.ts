// Proves the rate limits of the two read APIs on the real services (the ledger API and the payouts HTTP
// API): requests without a credential (each a 401) count against their address, and past
// <SERVICE>_RATE_LIMIT_PER_ADDRESS in the window the address gets 429 with Retry-After in that service's
// error shape, counted on /metrics; another address is still served; X-Forwarded-For does not change the
// address unless HTTP_TRUST_PROXY_HOPS says a proxy sets it; health and metrics are never limited. A
// request with a read credential counts against the credential instead (<SERVICE>_RATE_LIMIT_PER_CREDENTIAL),
// so it is served from an address that is used up. One table, one case per service.
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
import { issueReadCredential } from '../../services/ledger-api/src/database/credentials';

const LIMIT = 5;
const PER_CREDENTIAL = 7;
const WINDOW_MS = 120_000;

interface ReadApiCase {
  readonly service: string;
  readonly main: string;
  /** The env prefix of the service's settings: <prefix>_HTTP_PORT, <prefix>_RATE_LIMIT_PER_ADDRESS, ... */
  readonly envPrefix: string;
  /** What the service prints once ready; its first group is the base URL. */
  readonly ready: RegExp;
  /** A route that answers without any data, from the base URL. */
  readonly route: string;
  /** The status of that route under the limit, with an operator's credential. */
  readonly underLimit: (status: number) => void;
  /** The 429's body beyond statusCode and message. */
  readonly refusal: Record<string, unknown>;
  readonly refusedMetric: string;
}

const CASES: readonly ReadApiCase[] = [
  {
    service: 'ledger-api',
    main: 'services/ledger-api/src/main.ts',
    envPrefix: 'LEDGER_API',
    ready: /ledger-api ready at (http:\/\/\S+) as role/,
    // A 400 (limit out of range) needs no ledger tables and still counts: the limit runs before the route.
    route: '/v1/accounts?limit=0',
    underLimit: (status) => expect(status).toBe(400),
    refusal: { error: 'too_many_requests', issues: [{ field: '(rate)', rule: `at-most:${LIMIT}-per-${WINDOW_MS}ms` }] },
    refusedMetric: 'ledger_api_requests_rate_limited_total',
  },
  {
    service: 'payouts',
    main: 'services/payouts/src/main.ts',
    envPrefix: 'PAYOUTS',
    ready: /payouts ready: statement at (http:\/\/\S+)\/accounts/,
    route: '/accounts/contributor:alice/payouts',
    underLimit: (status) => expect(status).not.toBe(429),
    refusal: { error: 'Too Many Requests' },
    refusedMetric: 'payouts_requests_rate_limited_total',
  },
];

describe.each(CASES)('the $service rate limit', (read) => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let baseUrl: string;
  let operator: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase(`${read.service.replace('-', '_')}_limits`);
    service = startServiceProcess(
      read.main,
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: `${uniqueName('t')}.`,
        [`${read.envPrefix}_HTTP_PORT`]: '0',
        [`${read.envPrefix}_RATE_LIMIT_PER_ADDRESS`]: String(LIMIT),
        [`${read.envPrefix}_RATE_LIMIT_PER_CREDENTIAL`]: String(PER_CREDENTIAL),
        [`${read.envPrefix}_RATE_LIMIT_WINDOW_MS`]: String(WINDOW_MS),
      },
      `${read.service}-limits`,
    );
    await eventually(() => expect(service.output()).toMatch(read.ready), 120_000);
    baseUrl = read.ready.exec(service.output())![1]!.replace('[::1]', '127.0.0.1');
    const credential = await issueReadCredential(database.url, ['operator'], 'rate-limit test');
    operator = { authorization: `Bearer ${credential.key}` };
  }, 180_000);

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('answers 429 with Retry-After past the limit, per address, spoof-proof, never on health or metrics', async () => {
    const url = `${baseUrl}${read.route}`;
    // Without a credential each is a 401, and each counts against the address.
    for (let index = 0; index < LIMIT; index += 1) expect((await getFrom('127.0.0.1', url)).status).toBe(401);
    const refused = await getFrom('127.0.0.1', url);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body).toEqual({
      statusCode: 429,
      message: expect.stringContaining(`${read.envPrefix}_RATE_LIMIT_PER_ADDRESS`),
      ...read.refusal,
    });
    // No trusted proxy is configured, so a forged X-Forwarded-For is still counted against the connection.
    expect((await getFrom('127.0.0.1', url, { 'x-forwarded-for': '10.1.2.3' })).status).toBe(429);
    read.underLimit((await getFrom('127.0.0.2', url, operator)).status);
    expect((await getFrom('127.0.0.1', `${baseUrl}/health/live`)).status).toBe(200);
    // An operator's credential has its own bucket: served from the used-up address until its own limit.
    for (let index = 1; index < PER_CREDENTIAL; index += 1)
      read.underLimit((await getFrom('127.0.0.1', url, operator)).status);
    const perCredential = await getFrom('127.0.0.1', url, operator);
    expect(perCredential.status).toBe(429);
    expect(perCredential.body.message).toContain(`${read.envPrefix}_RATE_LIMIT_PER_CREDENTIAL`);
    const metrics = await getFrom('127.0.0.1', `${baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(new RegExp(`^${read.refusedMetric} 3$`, 'm'));
  }, 60_000);
});
