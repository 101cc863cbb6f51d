// Proves who may read what on the real services over a pipeline-built ledger (issue 23): a participant
// reads its own statement and payouts and gets 403 for another's; an analyst reads revenue per model and
// datanet and the flow, and gets 403 for any statement; every route of both services in the one access
// table (libs/access READ_ROUTES) answers 401 without a credential except health and metrics; a revoked
// credential is refused within ACCESS_CACHE_TTL_MS; a JWT from a test issuer (its JWKS served here on
// 127.0.0.1) with the mapped claim is admitted, and one signed by another key, an expired one or one for
// another audience is not. The OpenAPI document lists no route the table lacks. A flood of unknown
// credentials from one address costs at most ACCESS_FAILURES_PER_ADDRESS database look-ups (counted on
// /metrics) and turns into 429s, while a caller at another address is still served.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { READ_ROUTES, type ReadService } from '@tributary/access';
import { eventually, getFrom, startServiceProcess, testBrokers, type ServiceProcess } from '@tributary/testing';
import { revokeReadCredential } from '../src/database/credentials';
import { Pipeline } from './pipeline';

const CACHE_TTL_MS = 2_000;
const FAILURES_PER_ADDRESS = 10;
const FLOOD = 300;
const AUDIENCE = 'tributary-read';
const OPERATOR_TOKEN = 'payouts-operator-token-for-tests';

describe('read access to the ledger API and the payouts statements', () => {
  let jwks: Server;
  let issuer = '';
  let signingKey: CryptoKey;
  let strangerKey: CryptoKey;
  let pipeline: Pipeline;
  let payouts: ServiceProcess;
  const base: Record<ReadService, string> = { 'ledger-api': '', payouts: '' };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    strangerKey = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
    jwks = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    const accessEnv = {
      ACCESS_CACHE_TTL_MS: String(CACHE_TTL_MS),
      ACCESS_FAILURES_PER_ADDRESS: String(FAILURES_PER_ADDRESS),
      ACCESS_OIDC_ISSUER: issuer,
      ACCESS_OIDC_JWKS_URL: `${issuer}/.well-known/jwks.json`,
      ACCESS_OIDC_AUDIENCE: AUDIENCE,
      ACCESS_OIDC_CLAIM_SCOPES: JSON.stringify({
        'ledger-analysts': ['analyst'],
        earners: ['participant:contributor:{sub}'],
      }),
    };
    pipeline = new Pipeline(accessEnv);
    await pipeline.start();
    for (let index = 0; index < 4; index += 1) await pipeline.publishInference(index);
    await pipeline.waitForInferences(4);
    payouts = startServiceProcess(
      'services/payouts/src/main.ts',
      {
        ...accessEnv,
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: pipeline.database.url,
        TRIBUTARY_TOPIC_PREFIX: pipeline.prefix,
        PAYOUTS_HTTP_PORT: '0',
        PAYOUTS_EPOCH_AUTO_CLOSE: 'false',
        PAYOUTS_OPERATOR_TOKEN: OPERATOR_TOKEN,
      },
      'read-access-payouts',
    );
    pipeline.processes.push(payouts);
    await eventually(
      () => expect(payouts.output()).toMatch(/payouts ready: statement at (http:\/\/\S+)\/accounts/),
      120_000,
    );
    base['ledger-api'] = pipeline.apiUrl;
    base.payouts = /payouts ready: statement at (http:\/\/\S+)\/accounts/
      .exec(payouts.output())![1]!
      .replace('[::1]', '127.0.0.1');
  }, 300_000);

  afterAll(async () => {
    await pipeline?.stop();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  async function call(service: ReadService, path: string, credential: string | null, method = 'GET') {
    const response = await fetch(`${base[service]}${path}`, {
      method,
      headers: {
        ...(credential === null ? {} : { authorization: `Bearer ${credential}` }),
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });
    const text = await response.text();
    let body: any = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, body };
  }

  it('lets participant A read its own statement, balance, lineage and payouts, and refuses B’s with 403', async () => {
    const alice = await pipeline.credential('participant:contributor:alice');
    for (const path of [
      '/v1/accounts/contributor:alice/statement',
      '/v1/accounts/contributor:alice',
      '/v1/accounts/contributor:alice/contributions',
      '/v1/accounts/contributor:alice/funding',
      '/v1/payouts?account=contributor:alice',
    ])
      expect([path, (await call('ledger-api', path, alice)).status]).toEqual([path, 200]);
    expect((await call('payouts', '/accounts/contributor:alice/payouts', alice)).status).toBe(200);
    expect((await call('ledger-api', '/v1/me', alice)).body).toMatchObject({
      scopes: ['participant:contributor:alice'],
      operator: false,
      analyst: false,
      accounts: ['contributor:alice'],
    });
    for (const path of [
      '/v1/accounts/contributor:bob/statement',
      '/v1/accounts/contributor:bob',
      '/v1/accounts',
      '/v1/payouts?account=contributor:bob',
      '/v1/flow',
      '/v1/digest',
    ]) {
      const refused = await call('ledger-api', path, alice);
      expect([path, refused.status, refused.body]).toEqual([
        path,
        403,
        {
          statusCode: 403,
          error: 'forbidden',
          message: expect.stringContaining("outside this credential's scope"),
          issues: [{ field: 'authorization', rule: 'scope' }],
        },
      ]);
    }
    expect(await call('payouts', '/accounts/contributor:bob/payouts', alice)).toEqual({
      status: 403,
      body: {
        statusCode: 403,
        error: 'Forbidden',
        message: expect.stringContaining("outside this credential's scope"),
      },
    });
  });

  it('lets an analyst read revenue per model and datanet and the flow, and refuses every statement with 403', async () => {
    const analyst = await pipeline.credential('analyst');
    for (const path of ['/v1/revenue?dimension=model', '/v1/revenue?dimension=datanet', '/v1/flow'])
      expect([path, (await call('ledger-api', path, analyst)).status]).toEqual([path, 200]);
    for (const path of [
      '/v1/accounts/contributor:alice/statement',
      '/v1/accounts/protocol:tributary/statement',
      '/v1/accounts/contributor:alice',
      '/v1/revenue?dimension=contributor',
      '/v1/top-earners',
      '/v1/inferences/inf-1',
    ])
      expect([path, (await call('ledger-api', path, analyst)).status]).toEqual([path, 403]);
    expect((await call('payouts', '/accounts/contributor:alice/payouts', analyst)).status).toBe(403);
    // The flow is an aggregate for an analyst: no contributor is drawn on its own (an operator's names them).
    const contributorsIn = async (credential: string) =>
      ((await call('ledger-api', '/v1/flow', credential)).body.nodes as Array<{ id: string; column: number }>)
        .filter((node) => node.column === 2)
        .map((node) => node.id);
    expect(await contributorsIn(await pipeline.credential('operator'))).toContain('contributor:alice');
    expect(await contributorsIn(analyst)).toEqual(['contributor:(other)']);
  });

  it('answers 401 without a credential on every route of the access table but health and metrics', async () => {
    const sample = (path: string) =>
      path
        .replace(':accountId', 'contributor:alice')
        .replace(':account', 'contributor:alice')
        .replace(':epoch', '1')
        .replace(/:[A-Za-z]+/g, 'x');
    for (const route of READ_ROUTES) {
      const path = sample(route.path);
      const { status, body } = await call(route.service, path, null, route.method);
      const where = `${route.service} ${route.method} ${path}`;
      if (route.rule === 'public') {
        expect([where, status]).toEqual([where, 200]);
        continue;
      }
      expect([where, status]).toEqual([where, 401]);
      if (route.service === 'ledger-api')
        expect(body).toEqual({
          statusCode: 401,
          error: 'unauthorized',
          message: expect.any(String),
          issues: [expect.any(Object)],
        });
      else expect(body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
      // An unknown credential of the right shape is a 401 too.
      const unknown = `trr_0123456789ab_${'A'.repeat(43)}`;
      if (route.rule !== 'operator-token')
        expect([where, (await call(route.service, path, unknown, route.method)).status]).toEqual([where, 401]);
    }
    // Every operation the API documents is in the table, so none can be left out of this test.
    const documented = Object.keys((await call('ledger-api', '/docs/openapi.json', null)).body.paths).map((path) =>
      path.replace(/\{([^}]+)\}/g, ':$1'),
    );
    const tabled = READ_ROUTES.filter((route) => route.service === 'ledger-api').map((route) => route.path);
    expect(documented.filter((path) => !tabled.includes(path))).toEqual([]);
  });

  it('refuses a revoked credential within ACCESS_CACHE_TTL_MS on both services', async () => {
    const alice = await pipeline.credential('participant:contributor:alice');
    const id = alice.split('_')[1]!;
    expect((await call('ledger-api', '/v1/accounts/contributor:alice', alice)).status).toBe(200);
    expect((await call('payouts', '/accounts/contributor:alice/payouts', alice)).status).toBe(200);
    expect(await revokeReadCredential(pipeline.database.url, id)).toBe(true);
    const revokedAt = Date.now();
    for (const [service, path] of [
      ['ledger-api', '/v1/accounts/contributor:alice'],
      ['payouts', '/accounts/contributor:alice/payouts'],
    ] as const)
      await eventually(
        async () => expect((await call(service, path, alice)).status).toBe(401),
        CACHE_TTL_MS + 1_000,
        100,
      );
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(CACHE_TTL_MS + 1_000);
  });

  it('admits a JWT of the configured issuer by its mapped claim, and refuses another key, an expired one and another audience', async () => {
    const jwt = (options: { key?: CryptoKey; audience?: string; expiresAt?: number | string; roles?: string[] } = {}) =>
      new SignJWT({ tributary_scope: options.roles ?? ['earners'] })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
        .setIssuer(issuer)
        .setAudience(options.audience ?? AUDIENCE)
        .setSubject('alice')
        .setIssuedAt()
        .setExpirationTime(options.expiresAt ?? '5m')
        .sign(options.key ?? signingKey);
    const earner = await jwt();
    expect((await call('ledger-api', '/v1/accounts/contributor:alice/statement', earner)).status).toBe(200);
    expect((await call('payouts', '/accounts/contributor:alice/payouts', earner)).status).toBe(200);
    expect((await call('ledger-api', '/v1/accounts/contributor:bob/statement', earner)).status).toBe(403);
    expect((await call('ledger-api', '/v1/flow', await jwt({ roles: ['ledger-analysts'] }))).status).toBe(200);
    for (const [what, token, reason] of [
      ['another key', await jwt({ key: strangerKey }), 'not signed by the issuer'],
      ['expired', await jwt({ expiresAt: Math.floor(Date.now() / 1000) - 600 }), 'expired'],
      ['another audience', await jwt({ audience: 'someone-else' }), 'claim aud'],
    ] as const) {
      const refused = await call('ledger-api', '/v1/accounts/contributor:alice/statement', token);
      expect([what, refused.status, refused.body.message]).toEqual([what, 401, expect.stringContaining(reason)]);
      expect([what, (await call('payouts', '/accounts/contributor:alice/payouts', token)).status]).toEqual([what, 401]);
    }
  });

  it.each([
    ['ledger-api', '/v1/accounts/contributor:alice', 'ledger_api_credential_lookups_total'],
    ['payouts', '/accounts/contributor:alice/payouts', 'payouts_credential_lookups_total'],
  ] as const)(
    '%s: keeps a flood of unknown credentials from one address away from the database',
    async (service, path, metric) => {
      const lookups = async () => {
        const text = (await getFrom('127.0.0.1', `${base[service]}/metrics`)).body as string;
        const count = (outcome: string) =>
          Number(new RegExp(`^${metric}\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
        return count('live') + count('unknown');
      };
      const before = await lookups();
      const statuses: number[] = [];
      for (let sent = 0; sent < FLOOD; sent += 50) {
        const batch = Array.from({ length: 50 }, () =>
          getFrom('127.0.0.5', `${base[service]}${path}`, {
            authorization: `Bearer trr_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`,
          }),
        );
        statuses.push(...(await Promise.all(batch)).map((reply) => reply.status));
      }
      expect(statuses.filter((status) => status === 401)).toHaveLength(FAILURES_PER_ADDRESS);
      expect(statuses.filter((status) => status === 429)).toHaveLength(FLOOD - FAILURES_PER_ADDRESS);
      expect((await lookups()) - before).toBeLessThanOrEqual(FAILURES_PER_ADDRESS);
      // A caller elsewhere is served meanwhile, and its valid look-up is the only one more.
      const alice = await pipeline.credential('participant:contributor:alice');
      expect((await getFrom('127.0.0.6', `${base[service]}${path}`, { authorization: `Bearer ${alice}` })).status).toBe(
        200,
      );
      expect((await lookups()) - before).toBeLessThanOrEqual(FAILURES_PER_ADDRESS + 1);
    },
    60_000,
  );
});
