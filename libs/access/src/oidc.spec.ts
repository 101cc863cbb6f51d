// Proves the OIDC side of read access with a real JWKS served on 127.0.0.1: a token of the issuer with
// the mapped claim gives its scopes; one signed by another key, an expired one, one for another audience
// or issuer, and one with an algorithm not allowed are refused with the reason; and the claim mapping
// (values as scopes, or mapped with {sub}) and the configuration are validated.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { accessEnv } from './access-env';
import { claimScopesProblems, scopesFromClaims } from './claims';
import { OidcVerifier, type OidcSettings } from './oidc';

const AUDIENCE = 'tributary-ledger';

describe('OidcVerifier against a JWKS on 127.0.0.1', () => {
  let server: Server;
  let issuer: string;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  let settings: OidcSettings;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    settings = {
      issuer,
      jwksUrl: `${issuer}/jwks.json`,
      audience: AUDIENCE,
      algorithms: ['RS256'],
      scopeClaim: 'roles',
      claimScopes: { finance: ['analyst'], earner: ['participant:contributor:{sub}'] },
      clockToleranceS: 5,
      jwksTimeoutMs: 2_000,
    };
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const token = (options: { signer?: CryptoKey; exp?: number | string; audience?: string; issuer?: string } = {}) =>
    new SignJWT({ roles: ['earner', 'other-app-role'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(options.issuer ?? issuer)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(options.exp ?? '5m')
      .sign(options.signer ?? key);

  it('maps the claim of a valid token to scopes', async () => {
    await expect(new OidcVerifier(settings).verify(await token())).resolves.toEqual({
      valid: true,
      subject: 'alice',
      scopes: [{ kind: 'participant', accountId: 'contributor:alice' }],
    });
  });

  it.each([
    ['signed by another key', () => token({ signer: otherKey }), 'the token is not signed by the issuer'],
    ['expired', () => token({ exp: Math.floor(Date.now() / 1000) - 600 }), 'the token has expired'],
    ['for another audience', () => token({ audience: 'someone-else' }), 'claim aud'],
    ['from another issuer', () => token({ issuer: 'https://evil.example' }), 'claim iss'],
  ])('refuses a token %s', async (_case, make, reason) => {
    const outcome = await new OidcVerifier(settings).verify(await make());
    expect(outcome).toEqual({ valid: false, reason: expect.stringContaining(reason) });
  });

  it('refuses an algorithm outside the allow-list', async () => {
    const outcome = await new OidcVerifier({ ...settings, algorithms: ['ES256'] }).verify(await token());
    expect(outcome).toEqual({ valid: false, reason: 'the token is signed with an algorithm not allowed' });
  });
});

describe('claims to scopes', () => {
  it('takes values as scopes without a mapping, dropping what is no scope', () => {
    expect(
      scopesFromClaims({ tributary_scope: 'analyst participant:contributor:bob admin' }, 'tributary_scope', undefined),
    ).toEqual([{ kind: 'analyst' }, { kind: 'participant', accountId: 'contributor:bob' }]);
    expect(scopesFromClaims({ tributary_scope: 42 }, 'tributary_scope', undefined)).toEqual([]);
  });

  it('validates a mapping naming each bad value', () => {
    expect(claimScopesProblems({ ok: ['operator'], earner: ['participant:contributor:{sub}'] })).toEqual([]);
    expect(claimScopesProblems({ bad: ['root'], worse: 'analyst' })).toEqual([
      expect.stringContaining('"bad": scope "root"'),
      '"worse": must be a list of scopes',
    ]);
    expect(claimScopesProblems([])).toEqual(['must be a JSON object from claim values to lists of scopes']);
  });
});

describe('accessEnv', () => {
  it('defaults to credentials only, cached 10 s', () => {
    expect(accessEnv({})).toMatchObject({ cacheTtlMs: 10_000, oidc: undefined });
  });

  it('names the variable and the rule of every mistake', () => {
    expect(() => accessEnv({ ACCESS_OIDC_ISSUER: 'http://idp.example' })).toThrow(
      /ACCESS_OIDC_ISSUER: must be an https:\/\/ URL/,
    );
    expect(() => accessEnv({ ACCESS_OIDC_ISSUER: 'https://idp.example' })).toThrow(
      /ACCESS_OIDC_JWKS_URL: is required when ACCESS_OIDC_ISSUER is set/,
    );
    expect(() => accessEnv({ ACCESS_OIDC_AUDIENCE: 'x' })).toThrow(/ACCESS_OIDC_AUDIENCE: needs ACCESS_OIDC_ISSUER/);
    expect(() =>
      accessEnv({
        ACCESS_OIDC_ISSUER: 'https://idp.example',
        ACCESS_OIDC_JWKS_URL: 'https://idp.example/jwks',
        ACCESS_OIDC_AUDIENCE: 'x',
        ACCESS_OIDC_ALGORITHMS: 'HS256',
      }),
    ).toThrow(/ACCESS_OIDC_ALGORITHMS: must be a comma-separated list of RS256/);
    expect(() =>
      accessEnv({
        ACCESS_OIDC_ISSUER: 'https://idp.example',
        ACCESS_OIDC_JWKS_URL: 'https://idp.example/jwks',
        ACCESS_OIDC_AUDIENCE: 'x',
        ACCESS_OIDC_CLAIM_SCOPES: '{"a":["root"]}',
      }),
    ).toThrow(/ACCESS_OIDC_CLAIM_SCOPES: "a": scope "root"/);
    expect(() => accessEnv({ ACCESS_CACHE_TTL_MS: '-1' })).toThrow(/ACCESS_CACHE_TTL_MS: must be at least 0/);
  });
});
