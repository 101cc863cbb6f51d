// Proves the funding endpoints against real PostgreSQL through the API process and its reader role: two
// producers in USDC, one that paid in all its fees and one that paid in half, with a settled payout, one
// in flight and a failed one. The half-funded producer's earners show pending funding naming it, the
// producer shows its shortfall, the treasury's figures reconcile, bad ids are 400s naming the field,
// unknown ones 404s, a ledger without the funding tables answers 503 saying so, and the dashboard shows
// the producers' shortfall and an account's pending funding with the producer it waits on.
//
// The ledger is written by hand here (the funding tables' rows, payouts, balances): the projector's own
// tests prove how those rows come from events; this proves what the API makes of them. The projector's
// migrations build the schema; the two funding tables are created to their contract when the migrations
// at hand do not create them yet.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { ensureSchema, initializeDataSource } from '@tributary/persistence';
import {
  createTestDatabase,
  eventually,
  startServiceProcess,
  testBrokers,
  uniqueName,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { dataSourceOptions } from '../../ledger-projector/src/database/data-source-options';
import { issueReadCredential } from '../src/database/credentials';
import { launchChromium, signIn } from './chromium';

const FULL = 'urn:tributary:producer:full';
const HALF = 'urn:tributary:producer:half';

/** The contract of the projector's funding tables, for migrations that do not create them yet. */
const FUNDING_TABLES = [
  `CREATE TABLE IF NOT EXISTS ledger.producer_funding (producer text NOT NULL, asset text NOT NULL, fees_minor numeric NOT NULL DEFAULT 0,
     credited_minor numeric NOT NULL DEFAULT 0, deposits_minor numeric NOT NULL DEFAULT 0, chargebacks_minor numeric NOT NULL DEFAULT 0, PRIMARY KEY (producer, asset))`,
  `CREATE TABLE IF NOT EXISTS ledger.producer_credits (account text NOT NULL, producer text NOT NULL, asset text NOT NULL, credited_minor numeric NOT NULL,
     PRIMARY KEY (account, producer, asset))`,
];

describe('the funding endpoints', () => {
  let database: TestDatabase;
  let owner: Client;
  let api: ServiceProcess;
  let apiUrl = '';
  /** An operator's read credential. */
  let operator = '';

  const get = async (path: string) => {
    const response = await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${operator}` } });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    database = await createTestDatabase('ledger_api_funding');
    await ensureSchema(database.url, 'ledger');
    await (await initializeDataSource(dataSourceOptions(database.url, 2))).destroy();
    owner = new Client({ connectionString: database.url });
    await owner.connect();
    for (const statement of FUNDING_TABLES) await owner.query(statement);
    await owner.query(
      `INSERT INTO ledger.producer_funding (producer, asset, fees_minor, credited_minor, deposits_minor, chargebacks_minor)
       VALUES ($1, 'USDC', 1000, 1000, 1000, 0), ($2, 'USDC', 1000, 1000, 500, 0)`,
      [FULL, HALF],
    );
    await owner.query(
      `INSERT INTO ledger.producer_credits (account, producer, asset, credited_minor)
       VALUES ('contributor:alice', $1, 'USDC', 600), ('model-owner:mona', $1, 'USDC', 400), ('contributor:alice', $2, 'USDC', 300), ('contributor:bob', $2, 'USDC', 700)`,
      [FULL, HALF],
    );
    await owner.query(
      `INSERT INTO ledger.payouts (payout_id, account, asset, amount_minor, epoch, status, requested_event_id, ended_event_id, rail)
       VALUES ('payout-1', 'contributor:alice', 'USDC', 400, 1, 'SETTLED', 'evt-1', 'evt-2', 'ach'),
              ('payout-2', 'contributor:bob', 'USDC', 100, 1, 'REQUESTED', 'evt-3', NULL, NULL),
              ('payout-3', 'model-owner:mona', 'USDC', 50, 1, 'FAILED', 'evt-4', 'evt-5', NULL)`,
    );
    await owner.query(
      `INSERT INTO ledger.accounts (account, asset, role, owner_id, balance_minor, entry_count)
       VALUES ('consumer:c', 'USDC', 'consumer', 'c', -2000, 2), ('contributor:alice', 'USDC', 'contributor', 'alice', 500, 3),
              ('contributor:bob', 'USDC', 'contributor', 'bob', 600, 2), ('model-owner:mona', 'USDC', 'model-owner', 'mona', 400, 3),
              ('settlement:ach', 'USDC', 'settlement', 'ach', 400, 1), ('clearing:payouts-in-flight', 'USDC', 'clearing', 'payouts-in-flight', 100, 4)`,
    );
    api = startServiceProcess(
      'services/ledger-api/src/main.ts',
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: `${uniqueName('t')}.`,
        LEDGER_API_HTTP_PORT: '0',
      },
      'ledger-api-funding',
    );
    await eventually(() => expect(api.output()).toMatch(/ledger-api ready at (http:\/\/\S+) as role/), 120_000);
    apiUrl = /ledger-api ready at (http:\/\/\S+) as role/.exec(api.output())![1]!.replace('[::1]', '127.0.0.1');
    operator = (await issueReadCredential(database.url, ['operator'], 'funding tests')).key;
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
    await owner?.end();
    await database?.drop();
  });

  it('shows an earner of the half-funded producer its pending funding, naming that producer', async () => {
    const { status, body } = await get('/v1/accounts/contributor:bob/funding');
    expect(status).toBe(200);
    expect(body).toEqual({
      account: 'contributor:bob',
      assets: [
        {
          asset: 'USDC',
          earnedMinor: '700',
          backedMinor: '350',
          paidOrInFlightMinor: '100',
          payableMinor: '250',
          pendingFundingMinor: '350',
          heldMinor: '0',
          overpaidMinor: '0',
          waitingOn: [{ producer: HALF, amountMinor: '350' }],
          sources: [
            {
              producer: HALF,
              earnedMinor: '700',
              backedMinor: '350',
              paidOrInFlightMinor: '100',
              payableMinor: '250',
              heldMinor: '0',
            },
          ],
        },
      ],
    });
    const alice = (await get(`/v1/accounts/${encodeURIComponent('contributor:alice')}/funding`)).body.assets[0];
    expect(alice).toMatchObject({
      earnedMinor: '900',
      backedMinor: '750',
      paidOrInFlightMinor: '400',
      payableMinor: '350',
      pendingFundingMinor: '150',
      waitingOn: [{ producer: HALF, amountMinor: '150' }],
    });
    // Earned only from the producer that paid in everything: nothing pending, nobody to wait on (the failed payout counts for nothing).
    expect((await get('/v1/accounts/model-owner:mona/funding')).body.assets[0]).toMatchObject({
      earnedMinor: '400',
      backedMinor: '400',
      paidOrInFlightMinor: '0',
      payableMinor: '400',
      pendingFundingMinor: '0',
      waitingOn: [],
    });
    // A known account that earned from no producer has no funding lines, not a 404.
    expect(await get('/v1/accounts/consumer:c/funding')).toEqual({
      status: 200,
      body: { account: 'consumer:c', assets: [] },
    });
  });

  it('shows each producer its fees, deposits and shortfall', async () => {
    const half = await get(`/v1/producers/${encodeURIComponent(HALF)}/funding`);
    expect(half).toEqual({
      status: 200,
      body: {
        producer: HALF,
        assets: [
          {
            asset: 'USDC',
            feesReportedMinor: '1000',
            creditedMinor: '1000',
            depositsMinor: '500',
            chargebacksMinor: '0',
            netDepositsMinor: '500',
            shortfallMinor: '500',
            prepaidMinor: '0',
            backedMinor: '500',
            paidOrInFlightMinor: '100',
            payableMinor: '400',
            heldMinor: '0',
            debtMinor: '0',
            treasuryRemainderMinor: '0',
          },
        ],
      },
    });
    const full = await get(`/v1/producers/${encodeURIComponent(FULL)}/funding`);
    expect(full.body.assets[0]).toMatchObject({
      feesReportedMinor: '1000',
      depositsMinor: '1000',
      netDepositsMinor: '1000',
      shortfallMinor: '0',
      backedMinor: '1000',
      debtMinor: '0',
    });
  });

  it('gives the treasury per asset, every producer, and a reconciliation that holds', async () => {
    const { status, body } = await get('/v1/funding');
    expect(status).toBe(200);
    expect(body.assets).toEqual([
      {
        asset: 'USDC',
        depositsMinor: '1500',
        chargebacksMinor: '0',
        netDepositsMinor: '1500',
        fundedMinor: '1500',
        feesReportedMinor: '2000',
        earnedMinor: '2000',
        backedTotalMinor: '1500',
        paidOrInFlightTotalMinor: '500',
        payableTotalMinor: '1000',
        heldTotalMinor: '0',
        debtTotalMinor: '0',
        shortfallTotalMinor: '500',
        treasuryRemainderMinor: '0',
        backedWithinDeposits: true,
      },
    ]);
    expect(
      body.producers.map((row: { producer: string; shortfallMinor: string }) => [row.producer, row.shortfallMinor]),
    ).toEqual([
      [FULL, '0'],
      [HALF, '500'],
    ]);
    expect(body.reconciliation).toEqual({
      holds: true,
      lines: [
        {
          asset: 'USDC',
          netDepositsMinor: '1500',
          settledMinor: '400',
          inFlightMinor: '100',
          backedUnpaidMinor: '1000',
          treasuryRemainderMinor: '0',
          prepaidMinor: '0',
          debtMinor: '0',
          holds: true,
        },
      ],
      problems: [],
    });
  });

  it('answers 400 naming the field for a malformed id or parameter, 404 for an unknown one', async () => {
    expect(await get('/v1/accounts/not-an-account/funding')).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        error: 'bad_request',
        message: 'account: account-id',
        issues: [{ field: 'account', rule: 'account-id' }],
      },
    });
    expect(await get(`/v1/producers/${encodeURIComponent('urn:x\u0001')}/funding`)).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        error: 'bad_request',
        message: 'producer: printable',
        issues: [{ field: 'producer', rule: 'printable' }],
      },
    });
    expect((await get('/v1/funding?asset=USDC')).body).toEqual({
      statusCode: 400,
      error: 'bad_request',
      message: 'asset: unknown-parameter',
      issues: [{ field: 'asset', rule: 'unknown-parameter' }],
    });
    expect(await get('/v1/accounts/contributor:nobody/funding')).toEqual({
      status: 404,
      body: {
        statusCode: 404,
        error: 'not_found',
        message: 'account: no account "contributor:nobody" in the ledger',
        issues: [{ field: 'account', rule: 'unknown-id' }],
      },
    });
    expect(await get(`/v1/producers/${encodeURIComponent('urn:tributary:producer:nobody')}/funding`)).toEqual({
      status: 404,
      body: {
        statusCode: 404,
        error: 'not_found',
        message: 'producer: no producer "urn:tributary:producer:nobody" in the ledger',
        issues: [{ field: 'producer', rule: 'unknown-id' }],
      },
    });
  });

  it("shows the producers' shortfall and an account's pending funding on the dashboard", async () => {
    const browser = await launchChromium();
    if (browser === null) return;
    try {
      const page = await browser.newPage();
      await signIn(page, apiUrl, operator);
      await page.waitForSelector('[data-testid="producer-row"]');
      const shortfalls = await page.$$eval(
        '[data-testid="producer-row"]',
        (
          rows: Array<{
            getAttribute(name: string): string | null;
            querySelector(selector: string): { textContent: string | null } | null;
          }>,
        ) =>
          rows.map((row) => [
            row.getAttribute('data-producer'),
            row.querySelector('[data-testid="producer-shortfall"]')?.textContent ?? '',
          ]),
      );
      expect(shortfalls).toEqual([
        [FULL, '0'],
        [HALF, '500'],
      ]);
      expect(await page.textContent('[data-testid="reconciliation"]')).toContain('Funding reconciles');
      await page.goto(`${apiUrl}/dashboard/#/account/${encodeURIComponent('contributor:bob')}`);
      await page.waitForSelector('[data-testid="funding-row"]');
      expect(await page.textContent('[data-testid="pending-USDC"]')).toBe('350');
      expect(await page.textContent('[data-testid="waiting-on-USDC"]')).toBe(`${HALF}: 350`);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-funding.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('lists the funding endpoints in the OpenAPI document', async () => {
    const { status, body } = await get('/docs/openapi.json');
    expect(status).toBe(200);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining(['/v1/accounts/{account}/funding', '/v1/producers/{producer}/funding', '/v1/funding']),
    );
    expect(Object.keys(body.paths['/v1/funding'].get.responses).sort()).toEqual(['200', '400', '503']);
  });

  it('answers 503 saying what is missing while the ledger has no funding tables', async () => {
    await owner.query('ALTER TABLE ledger.producer_funding RENAME TO producer_funding_aside');
    try {
      for (const path of [
        '/v1/funding',
        '/v1/accounts/contributor:bob/funding',
        `/v1/producers/${encodeURIComponent(HALF)}/funding`,
      ]) {
        const { status, body } = await get(path);
        expect(status).toBe(503);
        expect(body).toMatchObject({ statusCode: 503, error: 'unavailable', issues: [] });
        expect(body.message).toContain('ledger.producer_funding');
      }
    } finally {
      await owner.query('ALTER TABLE ledger.producer_funding_aside RENAME TO producer_funding');
    }
    expect((await get('/v1/funding')).status).toBe(200);
  });
});

const ARTIFACTS = path.resolve(__dirname, '../../../artifacts/ledger-api');
