// Issue 20's acceptance on the real services: every unit paid out is backed by a unit paid in. Three
// producers publish inferences through the gateway under their own keys (so each decision names its
// producer); the treasury records deposits and a chargeback with the payouts CLI; epochs are closed by
// the operator and settled on the ledger rail. The first producer deposits all its fees and its earners
// are paid in full, the second deposits half and its earners get half, the third deposits nothing and
// its earners get nothing; a later deposit makes the rest payable; a chargeback after a payout leaves no
// account negative and is recovered from the next deposit before anything new is paid; a rebuild from
// offset 0 gives the same totals and digest. After every step the funding reconciliation holds. Last,
// the simulator funds its producer with the share of the fees it is told to, and one told not to fund
// leaves its whole fees as the producer's shortfall.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { catalogFor, deadLetterTopicSpec, topicCatalog } from '@tributary/contracts';
import {
  backingFactsFromTotals,
  computeBacking,
  paidOrInFlightMap,
  reconcileFunding,
  type BackingReport,
} from '@tributary/ledger';
import { ensureTopics } from '@tributary/messaging';
import { ECONOMY_DEFAULTS, simulateEconomy } from '@tributary/simulator';
import {
  createTestDatabase,
  eventually,
  readTopic,
  startServiceProcess,
  testBrokers,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { simulate, type SimulateOptions } from '../../services/gateway/src/cli/simulate-cli';
import {
  keyRepository,
  post,
  scope,
  startGateway,
  type RunningGateway,
} from '../../services/gateway/test/gateway-harness';

const OPERATOR_TOKEN = 'operator-token-of-the-funding-e2e-0123';
const FEE_MINOR = 10_000n;
/** Each producer serves its own model on its own datanet, so each earner earns from one producer only. */
const PRODUCERS = {
  full: { model: 'model-full', datanet: 'dn-full', contributor: 'fiona', owner: 'fred', curator: 'flo' },
  half: { model: 'model-half', datanet: 'dn-half', contributor: 'hal', owner: 'hank', curator: 'hedy' },
  none: { model: 'model-none', datanet: 'dn-none', contributor: 'nina', owner: 'ned', curator: 'nora' },
} as const;
type ProducerName = keyof typeof PRODUCERS;
const sourceOf = (name: ProducerName) => `urn:tributary:producer:fund-${name}`;

describe('payouts backed by deposits, end to end', () => {
  const prefix = `${uniqueName('fnd')}.`;
  const catalog = catalogFor(prefix);
  const { topics, groups } = catalog;
  const processes: ServiceProcess[] = [];
  let database: TestDatabase;
  let sql: Client;
  let gateway: RunningGateway;
  let keys: Awaited<ReturnType<typeof keyRepository>>;
  const producerKeys = {} as Record<ProducerName, string>;
  let payouts: ServiceProcess;
  let inferences = 0;
  let epoch = 0;

  const common = () => ({
    KAFKA_BROKERS: testBrokers().join(','),
    DATABASE_URL: database.url,
    TRIBUTARY_TOPIC_PREFIX: prefix,
  });
  const consumerEnv = {
    CONSUMER_SESSION_TIMEOUT_MS: '6000',
    CONSUMER_REBALANCE_TIMEOUT_MS: '6000',
    CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
  };
  const payoutsEnv = () => ({
    ...common(),
    PAYOUTS_HTTP_PORT: '0',
    PAYOUTS_RAIL: 'ledger',
    PAYOUTS_OPERATOR_TOKEN: OPERATOR_TOKEN,
    PAYOUTS_POLL_INTERVAL_MS: '200',
    PAYOUTS_EPOCH_AUTO_CLOSE: 'false',
    PAYOUTS_THRESHOLD_CONTRIBUTOR_MINOR: '1',
    PAYOUTS_THRESHOLD_MODEL_OWNER_MINOR: '1',
    PAYOUTS_THRESHOLD_DATANET_OWNER_MINOR: '1',
    PAYOUTS_THRESHOLD_PROTOCOL_MINOR: '1',
  });
  const start = async (main: string, name: string, env: Record<string, string>, ready: RegExp) => {
    const instance = startServiceProcess(main, env, name);
    processes.push(instance);
    await eventually(() => expect(instance.output()).toMatch(ready), 120_000, 500);
    return instance;
  };
  const rows = async <T>(text: string, params: unknown[] = []) => (await sql.query(text, params)).rows as T[];
  const payoutsCli = async (...args: string[]) =>
    (
      await promisify(execFile)(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          '-r',
          'tsconfig-paths/register',
          'services/payouts/src/cli.ts',
          ...args,
        ],
        { env: { ...process.env, ...payoutsEnv() } },
      )
    ).stdout;
  const accepted = async (type: string, data: Record<string, unknown>, producerKey: string) =>
    expect(
      (
        await post(
          `${gateway.baseUrl}/events/${type}`,
          { eventId: `evt-${randomUUID()}`, occurredAt: Date.now(), ...data },
          producerKey,
        )
      ).status,
    ).toBe(202);

  /** Money the treasury records, and waits until the ledger has applied it. */
  const fund = async (kind: 'deposit' | 'chargeback', name: ProducerName, amountMinor: bigint) => {
    const before = await fundingOf(name);
    await payoutsCli(
      kind,
      '--producer',
      sourceOf(name),
      '--asset',
      'USDC',
      '--amount',
      amountMinor.toString(),
      '--reference',
      `bank:${randomUUID()}`,
      ...(kind === 'chargeback' ? ['--reason', 'card dispute'] : []),
    );
    await eventually(
      async () => {
        const after = await fundingOf(name);
        expect(kind === 'deposit' ? after.deposits - before.deposits : after.chargebacks - before.chargebacks).toBe(
          amountMinor,
        );
      },
      60_000,
      300,
    );
  };
  const fundingOf = async (name: ProducerName) => {
    const [row] = await rows<{ deposits_minor: string; chargebacks_minor: string }>(
      'SELECT deposits_minor::text, chargebacks_minor::text FROM ledger.producer_funding WHERE producer = $1',
      [sourceOf(name)],
    );
    return { deposits: BigInt(row?.deposits_minor ?? '0'), chargebacks: BigInt(row?.chargebacks_minor ?? '0') };
  };

  const infer = async (name: ProducerName, count: number) => {
    const { model } = PRODUCERS[name];
    for (let index = 0; index < count; index += 1) {
      await accepted(
        'InferenceCompleted',
        {
          inferenceId: `inference-${inferences + index}`,
          modelId: model,
          agentId: null,
          consumerId: 'consumer-1',
          asset: 'USDC',
          feeMinor: FEE_MINOR.toString(),
          attributions: [{ contributionId: `c-${name}`, scorePpm: 500_000 }],
          method: 'influence/v1',
          latencyMs: null,
        },
        producerKeys[name],
      );
    }
    inferences += count;
    await eventually(
      async () =>
        expect((await rows<{ n: number }>('SELECT count(*)::int AS n FROM ledger.inferences'))[0]!.n).toBe(inferences),
      120_000,
      500,
    );
  };

  /** What each account earned in total, and what it was paid (settled) so far, from the ledger. */
  const earnedAndPaid = async () => {
    const earned = new Map(
      (
        await rows<{ account: string; total: string }>(
          `SELECT account, sum(credited_minor)::text AS total FROM ledger.producer_credits GROUP BY account`,
        )
      ).map((row) => [row.account, BigInt(row.total)]),
    );
    const paid = new Map(
      (
        await rows<{ account: string; total: string }>(
          `SELECT account, sum(amount_minor)::text AS total FROM ledger.payouts WHERE status = 'SETTLED' GROUP BY account`,
        )
      ).map((row) => [row.account, BigInt(row.total)]),
    );
    return { earned, paid };
  };
  const accountsOf = (name: ProducerName) => [
    `contributor:${PRODUCERS[name].contributor}`,
    `model-owner:${PRODUCERS[name].owner}`,
    `datanet-owner:${PRODUCERS[name].curator}`,
  ];

  /** Closes the next epoch and waits until every payout of it settled. */
  const closeEpoch = async () => {
    epoch += 1;
    expect(JSON.parse(await payoutsCli('close-epoch', '--epoch', String(epoch)))).toMatchObject({
      epoch,
      created: true,
    });
    await eventually(
      async () => {
        const statuses = await rows<{ status: string }>('SELECT status FROM payouts.payouts WHERE epoch = $1', [epoch]);
        expect(statuses.every((row) => row.status === 'SETTLED')).toBe(true);
        const ledger = await rows<{ n: number }>(
          `SELECT count(*)::int AS n FROM ledger.payouts WHERE epoch = $1 AND status = 'SETTLED'`,
          [epoch],
        );
        expect(ledger[0]!.n).toBe(statuses.length);
      },
      90_000,
      300,
    );
  };

  /** The backing report from the ledger's own totals, and the reconciliation that must hold after every step. */
  const backing = async (schema = 'ledger'): Promise<BackingReport> => {
    const funding = await rows<{
      producer: string;
      asset: string;
      fees_minor: string;
      deposits_minor: string;
      chargebacks_minor: string;
    }>(
      `SELECT producer, asset, fees_minor::text, deposits_minor::text, chargebacks_minor::text FROM ${schema}.producer_funding ORDER BY 1, 2`,
    );
    const credits = await rows<{ account: string; producer: string; asset: string; credited_minor: string }>(
      `SELECT account, producer, asset, credited_minor::text FROM ${schema}.producer_credits ORDER BY 1, 2, 3`,
    );
    const paid = await rows<{ account: string; asset: string; amount_minor: string }>(
      `SELECT account, asset, sum(amount_minor)::text AS amount_minor FROM ${schema}.payouts WHERE status IN ('REQUESTED', 'SETTLED') GROUP BY 1, 2`,
    );
    return computeBacking(
      backingFactsFromTotals(
        funding.map((row) => ({
          producer: row.producer,
          asset: row.asset,
          feesMinor: BigInt(row.fees_minor),
          depositsMinor: BigInt(row.deposits_minor),
          chargebacksMinor: BigInt(row.chargebacks_minor),
        })),
        credits.map((row) => ({
          accountId: row.account,
          producer: row.producer,
          asset: row.asset,
          creditedMinor: BigInt(row.credited_minor),
        })),
      ),
      paidOrInFlightMap(
        paid.map((row) => ({ accountId: row.account, asset: row.asset, amountMinor: BigInt(row.amount_minor) })),
      ),
    );
  };
  const assertReconciles = async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'services/ledger-api/src/cli.ts',
        'reconcile-funding',
      ],
      { env: { ...process.env, ...common() } },
    );
    expect(stdout).toContain('ok:');
    const report = await backing();
    const cash = await rows<{ settled: string; in_flight: string }>(
      `SELECT coalesce(sum(amount_minor) FILTER (WHERE status = 'SETTLED'), 0)::text AS settled, coalesce(sum(amount_minor) FILTER (WHERE status = 'REQUESTED'), 0)::text AS in_flight FROM ledger.payouts`,
    );
    const [settlement] = await rows<{ balance: string }>(
      `SELECT coalesce(sum(balance_minor), 0)::text AS balance FROM ledger.accounts WHERE account LIKE 'settlement:%'`,
    );
    const [inFlight] = await rows<{ balance: string }>(
      `SELECT coalesce(sum(balance_minor), 0)::text AS balance FROM ledger.accounts WHERE account = 'clearing:payouts-in-flight'`,
    );
    const result = reconcileFunding(report.assets, report.producers, [
      {
        asset: 'USDC',
        settledMinor: BigInt(cash[0]!.settled),
        inFlightMinor: BigInt(cash[0]!.in_flight),
        settlementAccountsMinor: BigInt(settlement!.balance),
        inFlightAccountMinor: BigInt(inFlight!.balance),
      },
    ]);
    expect(result.problems).toEqual([]);
    for (const row of await rows<{ account: string; balance_minor: string }>(
      `SELECT account, balance_minor::text FROM ledger.accounts WHERE role IN ('contributor', 'model-owner', 'datanet-owner', 'protocol')`,
    )) {
      expect({ account: row.account, negative: BigInt(row.balance_minor) < 0n }).toEqual({
        account: row.account,
        negative: false,
      });
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase('funding_e2e');
    sql = new Client({ connectionString: database.url });
    await sql.connect();
    await withAdmin((admin) =>
      ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${groups.attribution}.tables`)], 1),
    );
    keys = await keyRepository(database.url);
    for (const name of Object.keys(PRODUCERS) as ProducerName[]) {
      const { model, datanet } = PRODUCERS[name];
      producerKeys[name] = (
        await keys.repository.create(scope(`fund-${name}`, { datanetIds: [datanet], modelIds: [model] }))
      ).key;
    }
    gateway = await startGateway(
      { ...common(), GATEWAY_KEY_CACHE_TTL_MS: '0', GATEWAY_INSTANCE_ID: uniqueName('fnd-gw') },
      'gateway-funding',
    );
    processes.push(gateway.process);
    for (const name of Object.keys(PRODUCERS) as ProducerName[]) {
      const { model, datanet, contributor, owner, curator } = PRODUCERS[name];
      await accepted(
        'DatanetCreated',
        { datanetId: datanet, ownerId: curator, name: datanet, license: 'CC0-1.0', curatorShareBps: 1_000 },
        producerKeys[name],
      );
      await accepted(
        'ContributionSubmitted',
        {
          contributionId: `c-${name}`,
          datanetId: datanet,
          contributorId: contributor,
          contentHash: 'sha256:00',
          sizeBytes: '10',
          license: 'CC0-1.0',
        },
        producerKeys[name],
      );
      await accepted(
        'ContributionValidated',
        { contributionId: `c-${name}`, validatorId: 'val', decision: 'ACCEPTED', qualityScoreBps: 9_000, reason: null },
        producerKeys[name],
      );
      await accepted(
        'ModelRegistered',
        {
          modelId: model,
          ownerId: owner,
          baseModel: 'base',
          datanetIds: [datanet],
          split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
        },
        producerKeys[name],
      );
    }
    await readTopic(topics.datanets.name, 1, 30_000);
    await Promise.all([
      start(
        'services/attribution/src/main.ts',
        'attribution',
        { ...common(), ...consumerEnv, ATTRIBUTION_HTTP_PORT: '0', ATTRIBUTION_ORDERING_GRACE_MS: '500' },
        /attribution ready/,
      ),
      start(
        'services/ledger-projector/src/main.ts',
        'ledger-projector',
        { ...common(), ...consumerEnv, LEDGER_PROJECTOR_HTTP_PORT: '0' },
        /ledger-projector ready/,
      ),
    ]);
    payouts = await start('services/payouts/src/main.ts', 'payouts', payoutsEnv(), /payouts ready/);
    expect(payouts).toBeDefined();
  }, 300_000);

  afterAll(async () => {
    for (const instance of processes) await instance.stop();
    await keys?.close();
    await sql?.end();
    await database?.drop();
  });

  it("pays the fully funded producer's earners in full, the half funded one's half, the unfunded one's nothing", async () => {
    for (const name of Object.keys(PRODUCERS) as ProducerName[]) await infer(name, 4);
    await fund('deposit', 'full', 4n * FEE_MINOR);
    await fund('deposit', 'half', 2n * FEE_MINOR);
    await closeEpoch();
    const { earned, paid } = await earnedAndPaid();
    for (const account of accountsOf('full'))
      expect({ account, paid: paid.get(account) }).toEqual({ account, paid: earned.get(account) });
    for (const account of accountsOf('half'))
      expect({ account, paid: paid.get(account) }).toEqual({ account, paid: earned.get(account)! / 2n });
    for (const account of accountsOf('none'))
      expect({ account, paid: paid.get(account) }).toEqual({ account, paid: undefined });
    const report = await backing();
    const nina = report.accounts.find((account) => account.accountId === 'contributor:nina')!;
    expect(nina.pendingFundingMinor).toBe(earned.get('contributor:nina'));
    expect(nina.waitingOn.map((waiting) => waiting.producer)).toEqual([sourceOf('none')]);
    expect(report.producers.find((producer) => producer.producer === sourceOf('half'))!.shortfallMinor).toBe(
      2n * FEE_MINOR,
    );
    await assertReconciles();
  }, 300_000);

  it('pays the rest once the deposit arrives, at the next close', async () => {
    await fund('deposit', 'half', 2n * FEE_MINOR);
    await closeEpoch();
    const { earned, paid } = await earnedAndPaid();
    for (const account of accountsOf('half'))
      expect({ account, paid: paid.get(account) }).toEqual({ account, paid: earned.get(account) });
    for (const account of accountsOf('none')) expect(paid.get(account)).toBeUndefined();
    await assertReconciles();
  }, 300_000);

  it('after a chargeback of paid money, leaves no account negative and pays nothing new until the next deposit covers it', async () => {
    const { paid: paidBefore } = await earnedAndPaid();
    await fund('chargeback', 'full', 2n * FEE_MINOR);
    const inDebt = (await backing()).producers.find((producer) => producer.producer === sourceOf('full'))!;
    expect(inDebt.debtMinor).toBeGreaterThan(0n);
    // New funded work by the same producer: its earners are not paid while the producer is in debt.
    await infer('full', 2);
    await fund('deposit', 'full', 2n * FEE_MINOR);
    await closeEpoch();
    const { paid: paidHeld } = await earnedAndPaid();
    for (const account of accountsOf('full')) expect(paidHeld.get(account)).toBe(paidBefore.get(account));
    await assertReconciles();
    // The next deposit covers the debt; then the new work is paid.
    await fund('deposit', 'full', 2n * FEE_MINOR);
    expect((await backing()).producers.find((producer) => producer.producer === sourceOf('full'))!.debtMinor).toBe(0n);
    await closeEpoch();
    const { earned, paid } = await earnedAndPaid();
    for (const account of accountsOf('full'))
      expect({ account, paid: paid.get(account) }).toEqual({ account, paid: earned.get(account) });
    await assertReconciles();
  }, 300_000);

  it('the simulator records its producer paying the share of its fees it is told to; told to fund nothing, its fees are all shortfall', async () => {
    const payoutsUrl = /statement at (http:\/\/[^/\s]+)/.exec(payouts.output())![1]!;
    const SIMULATED_EVENTS = 150;
    const run = async (producerId: string, fundPercent: number) => {
      const runId = uniqueName('sim').replace(/[^A-Za-z0-9_-]/g, '-');
      const apiKey = (await keys.repository.create(scope(producerId))).key;
      const options: SimulateOptions = {
        rate: 500,
        count: SIMULATED_EVENTS,
        via: 'gateway',
        seed: 7,
        runId,
        batchSize: 25,
        concurrency: 1,
        gatewayUrl: gateway.baseUrl,
        apiKey,
        durationMaxS: 60,
        progress: false,
        fundPercent,
        payoutsUrl,
        operatorToken: OPERATOR_TOKEN,
      };
      const summary = await simulate(options);
      expect(summary).toMatchObject({
        accepted: SIMULATED_EVENTS,
        failed: 0,
        producer: `urn:tributary:producer:${producerId}`,
      });
      // The fees the run sent, from the same seeded economy, counted here without the simulator's help.
      let feesMinor = 0n;
      const economy = simulateEconomy({ ...ECONOMY_DEFAULTS, seed: 7, runId, startTimeMs: 0n });
      for (let index = 0; index < SIMULATED_EVENTS; index += 1) {
        const event = economy.next().value;
        if (event.type === 'InferenceCompleted') feesMinor += event.data.feeMinor;
      }
      expect(feesMinor).toBeGreaterThan(0n);
      expect(summary.deposits).toEqual([
        expect.objectContaining({
          producer: summary.producer,
          asset: 'USDC',
          feesMinor,
          depositedMinor: (feesMinor * BigInt(fundPercent)) / 100n,
        }),
      ]);
      return { producer: summary.producer!, depositedMinor: summary.deposits[0]!.depositedMinor };
    };
    const half = await run('fund-sim-half', 50);
    const unfunded = await run('fund-sim-none', 0);
    expect(unfunded.depositedMinor).toBe(0n);
    // The ledger applies the deposit and the decisions of both runs; its backing report says who is short.
    await eventually(
      async () => {
        const report = await backing();
        const of = (producer: string) => report.producers.find((entry) => entry.producer === producer);
        expect(of(half.producer)?.depositsMinor).toBe(half.depositedMinor);
        expect(of(half.producer)!.shortfallMinor).toBe(of(half.producer)!.feesReportedMinor - half.depositedMinor);
        expect(of(half.producer)!.shortfallMinor).toBeGreaterThan(0n);
        expect(of(unfunded.producer)?.feesReportedMinor).toBeGreaterThan(0n);
        expect(of(unfunded.producer)!.shortfallMinor).toBe(of(unfunded.producer)!.feesReportedMinor);
      },
      60_000,
      300,
    );
    await assertReconciles();
    // Asked to fund without the operator token, the simulator says what it needs before it sends anything.
    await expect(
      simulate({
        rate: 1,
        count: 1,
        via: 'gateway',
        seed: 1,
        runId: 'no-token',
        batchSize: 1,
        concurrency: 1,
        gatewayUrl: gateway.baseUrl,
        apiKey: 'unused',
        durationMaxS: 1,
        progress: false,
        fundPercent: 100,
        payoutsUrl,
        operatorToken: undefined,
      }),
    ).rejects.toThrow(
      /--fund 100 records the producer's deposit through the payouts service and needs its operator token: PAYOUTS_OPERATOR_TOKEN/,
    );
  }, 300_000);
});
