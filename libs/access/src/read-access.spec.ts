// Proves the decisions ReadAccess makes before any credential is looked up: a public route needs none,
// a route missing from the table is refused to everyone (fail closed), a request without a bearer
// credential is a 401, and a bearer of the wrong shape, or a JWT where no issuer is configured, is a 401
// without reaching the credential store (the store here fails the test if it is ever asked).
import type { AccessSettings } from './access-env';
import { ReadAccess, ReaderAuthenticator, type ReadRequest } from './read-access';

const SETTINGS: AccessSettings = {
  cacheTtlMs: 10_000,
  unknownCacheTtlMs: 60_000,
  failuresPerAddress: 20,
  failureWindowMs: 60_000,
  oidc: undefined,
};

const neverAsked = (): Promise<never[]> => {
  throw new Error('the credential store was asked');
};

function request(overrides: Partial<ReadRequest>): ReadRequest {
  return {
    method: 'GET',
    routePath: '/v1/accounts/:account/statement',
    params: { account: 'contributor:alice' },
    query: {},
    authorization: undefined,
    address: '127.0.0.1',
    ...overrides,
  };
}

describe('ReadAccess before any look-up', () => {
  const access = new ReadAccess('ledger-api', new ReaderAuthenticator(neverAsked, SETTINGS));

  it('lets health and metrics through without a credential, HEAD as GET', async () => {
    for (const routePath of ['/health/live', '/health/ready', '/metrics'])
      await expect(access.decide(request({ routePath }))).resolves.toEqual({ allowed: true, reader: undefined });
    await expect(access.decide(request({ method: 'HEAD', routePath: '/metrics' }))).resolves.toMatchObject({
      allowed: true,
    });
  });

  it('refuses a route the table does not name, whoever asks', async () => {
    await expect(
      access.decide(request({ routePath: '/v1/secret-new-route', authorization: 'Bearer anything' })),
    ).resolves.toMatchObject({ allowed: false, status: 403, rule: 'route-not-in-access-table' });
  });

  it.each([undefined, '', 'Basic abc', 'Bearer', 'Bearer two words'])(
    'answers 401 bearer-credential for authorization %p',
    async (authorization) => {
      await expect(access.decide(request({ authorization }))).resolves.toMatchObject({
        allowed: false,
        status: 401,
        rule: 'bearer-credential',
      });
    },
  );

  it.each([
    'not-a-credential',
    'trr_0123456789ab_short',
    'trb_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln',
  ])('answers 401 known-credential for %p without asking the store', async (token) => {
    await expect(access.decide(request({ authorization: `Bearer ${token}` }))).resolves.toMatchObject({
      allowed: false,
      status: 401,
      rule: 'known-credential',
      message: 'authorization: unknown or revoked credential',
    });
  });

  it('answers 503 when the store cannot be read', async () => {
    const down = new ReadAccess(
      'payouts',
      new ReaderAuthenticator(() => Promise.reject(new Error('connection refused')), SETTINGS),
    );
    await expect(
      down.decide(
        request({
          routePath: '/accounts/:accountId/payouts',
          authorization: `Bearer trr_0123456789ab_${'A'.repeat(43)}`,
        }),
      ),
    ).resolves.toMatchObject({ allowed: false, status: 503, rule: 'credential-store-available' });
  });
});

describe('ReaderAuthenticator under a burst', () => {
  // The attack on availability: a client's first burst (or every request in flight when its cache entry
  // expires) arrives before any look-up has answered. Each used to take from the address's failure
  // budget, so a valid credential got 429s for arriving at once; now they share one look-up.
  it('serves concurrent requests with one valid credential from one look-up, beyond the failure budget', async () => {
    let queries = 0;
    const slowStore = async <Row>(): Promise<Row[]> => {
      queries += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return [{ credential_id: '0123456789ab', scopes: ['operator'] }] as Row[];
    };
    const authenticator = new ReaderAuthenticator(slowStore, SETTINGS);
    const token = `trr_0123456789ab_${'B'.repeat(43)}`;
    const outcomes = await Promise.all(
      Array.from({ length: SETTINGS.failuresPerAddress * 3 }, () => authenticator.authenticate(token, '10.0.0.7')),
    );
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(outcomes.map(() => 'live'));
    expect(queries).toBe(1);
  });

  it('answers a burst with one unknown credential from one look-up, spending one of the budget', async () => {
    let queries = 0;
    const emptyStore = async <Row>(): Promise<Row[]> => {
      queries += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return [];
    };
    const authenticator = new ReaderAuthenticator(emptyStore, { ...SETTINGS, unknownCacheTtlMs: 1 });
    const token = `trr_0123456789ab_${'C'.repeat(43)}`;
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => authenticator.authenticate(token, '10.0.0.8')));
    expect(new Set(outcomes.map((outcome) => outcome.outcome))).toEqual(new Set(['unknown']));
    expect(queries).toBe(1);
  });
});
