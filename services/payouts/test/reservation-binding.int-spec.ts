// Proves the saga binds the rail to the ledger, on a real KRaft broker and PostgreSQL with the
// attribution service, the ledger projector and the payouts service as OS processes and a counting
// webhook receiver on 127.0.0.1: a PayoutRequested for a planned payout's id but for 1 unit, written
// straight to the payouts topic ahead of the saga's own request, makes the ledger reserve 1. The payout
// then ends REFUSED with the reason, the refusal counter reads 1, the receiver is never called for it,
// and a later epoch close does not take that mismatched row as the plan applied (it plans nothing again).
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { catalogFor, deadLetterTopicSpec, topicCatalog, type InferenceCompleted } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { TributaryProducer, type EventToPublish } from '@tributary/producer';
import {
  createTestDatabase,
  eventually,
  readTopic,
  startServiceProcess,
  testBrokers,
  testClientOptions,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { issueReadCredential } from '../../ledger-api/src/database/credentials';

const SECRET = 'webhook-secret-of-the-binding-test-0123';
const CONTRIBUTORS: Record<string, string> = { k1: 'alice', k2: 'bob' };

describe('the payouts saga against a ledger reservation that differs from the plan', () => {
  const prefix = `${uniqueName('t')}.`;
  const catalog = catalogFor(prefix);
  const { topics, groups } = catalog;
  const calls = new Map<string, number>();
  let paidMinor = 0n;
  let receiver: Server;
  let webhookUrl: string;
  let database: TestDatabase;
  let sql: Client;
  let producer: TributaryProducer;
  const processes: ServiceProcess[] = [];

  const env = () => ({
    KAFKA_BROKERS: testBrokers().join(','),
    DATABASE_URL: database.url,
    TRIBUTARY_TOPIC_PREFIX: prefix,
    PAYOUTS_HTTP_PORT: '0',
    PAYOUTS_RAIL: 'webhook',
    PAYOUTS_WEBHOOK_URL: webhookUrl,
    PAYOUTS_WEBHOOK_SECRET: SECRET,
    PAYOUTS_POLL_INTERVAL_MS: '200',
    PAYOUTS_EPOCH_AUTO_CLOSE: 'false',
    PAYOUTS_THRESHOLD_CONTRIBUTOR_MINOR: '1000',
    PAYOUTS_THRESHOLD_MODEL_OWNER_MINOR: '1000',
    PAYOUTS_THRESHOLD_DATANET_OWNER_MINOR: '1000',
    PAYOUTS_THRESHOLD_PROTOCOL_MINOR: '1',
  });
  const consumerEnv = {
    CONSUMER_SESSION_TIMEOUT_MS: '6000',
    CONSUMER_REBALANCE_TIMEOUT_MS: '6000',
    CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
  };
  const start = async (main: string, name: string, extra: Record<string, string>, ready: RegExp) => {
    const instance = startServiceProcess(main, extra, name);
    processes.push(instance);
    await eventually(() => expect(instance.output()).toMatch(ready), 120_000, 500);
    return instance;
  };
  const rows = async <T>(text: string, params: unknown[] = []) => (await sql.query(text, params)).rows as T[];
  const closeEpoch = async (epoch: number) => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'services/payouts/src/cli.ts',
        'close-epoch',
        '--epoch',
        String(epoch),
      ],
      {
        env: { ...process.env, ...env() },
      },
    );
    return JSON.parse(stdout) as { epoch: number; created: boolean; payoutCount: number };
  };
  const stamp = (id: string) => ({ eventId: `evt-${prefix}${id}`, occurredAt: BigInt(Date.now()) });

  beforeAll(async () => {
    database = await createTestDatabase('payouts_binding');
    sql = new Client({ connectionString: database.url });
    await sql.connect();
    // The rail: counts every call per idempotency key and pays it (2xx), so any call for the forged payout shows.
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payoutId: string; amountMinor: string };
        const seen = calls.get(body.payoutId) ?? 0;
        calls.set(body.payoutId, seen + 1);
        if (seen === 0) paidMinor += BigInt(body.amountMinor);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/payouts`;
    await withAdmin((admin) =>
      ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${groups.attribution}.tables`)], 1),
    );
    producer = await TributaryProducer.connect({
      ...testClientOptions('payouts-binding-test'),
      source: 'urn:tributary:test',
      topicPrefix: prefix,
    });
    // The producer has paid in more than it will ever report in fees: every credit is backed.
    await producer.publishBatch([
      {
        type: 'FundsDeposited',
        data: {
          ...stamp('funding'),
          producer: 'urn:tributary:test',
          asset: 'USDC',
          amountMinor: 10n ** 15n,
          railReference: 'bank:opening-deposit',
        },
      },
    ]);
    await producer.publishBatch([
      {
        type: 'DatanetCreated',
        data: {
          ...stamp('dn'),
          datanetId: 'dn-b',
          ownerId: 'olga',
          name: 'Binding',
          license: 'CC0-1.0',
          curatorShareBps: 1_000,
        },
      },
      ...Object.entries(CONTRIBUTORS).flatMap(([contributionId, contributorId]): EventToPublish[] => [
        {
          type: 'ContributionSubmitted',
          data: {
            ...stamp(`s-${contributionId}`),
            contributionId,
            datanetId: 'dn-b',
            contributorId,
            contentHash: 'sha256:00',
            sizeBytes: 10n,
            license: 'CC0-1.0',
          },
        },
        {
          type: 'ContributionValidated',
          data: {
            ...stamp(`v-${contributionId}`),
            contributionId,
            validatorId: 'val',
            decision: 'ACCEPTED',
            qualityScoreBps: 9_000,
            reason: null,
          },
        },
      ]),
      {
        type: 'ModelRegistered',
        data: {
          ...stamp('m'),
          modelId: 'model-b',
          ownerId: 'mona',
          baseModel: 'base',
          datanetIds: ['dn-b'],
          split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
        },
      },
    ]);
    await readTopic(topics.datanets.name, 1, 30_000);
    await Promise.all([
      start(
        'services/attribution/src/main.ts',
        'attribution',
        { ...env(), ...consumerEnv, ATTRIBUTION_HTTP_PORT: '0', ATTRIBUTION_ORDERING_GRACE_MS: '500' },
        /attribution ready/,
      ),
      start(
        'services/ledger-projector/src/main.ts',
        'ledger-projector',
        { ...env(), ...consumerEnv, LEDGER_PROJECTOR_HTTP_PORT: '0' },
        /ledger-projector ready/,
      ),
    ]);
    const inferences: EventToPublish[] = Array.from({ length: 10 }, (_, index): EventToPublish => {
      const data: InferenceCompleted = {
        ...stamp(`i-${index}`),
        inferenceId: `inference-${index}`,
        modelId: 'model-b',
        agentId: null,
        consumerId: 'consumer-1',
        asset: 'USDC',
        feeMinor: 10_000n,
        attributions: [
          { contributionId: 'k1', scorePpm: 300_000n },
          { contributionId: 'k2', scorePpm: 200_000n },
        ],
        method: 'influence/v1',
        latencyMs: null,
      };
      return { type: 'InferenceCompleted', data };
    });
    await producer.publishBatch(inferences);
    await eventually(
      async () =>
        expect(Number((await rows<{ n: string }>('SELECT count(*) AS n FROM ledger.inferences'))[0]!.n)).toBe(10),
      120_000,
      500,
    );
  }, 240_000);

  afterAll(async () => {
    for (const instance of processes) await instance.stop();
    await producer?.disconnect();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    await sql?.end();
    await database?.drop();
  });

  it('refuses the payout, raises the alert, never calls the rail for it, and the next close does not plan it again', async () => {
    // Epoch 1 is planned while no payouts service runs, so nothing is requested yet.
    expect(await closeEpoch(1)).toMatchObject({ epoch: 1, created: true });
    const [alice] = await rows<{ payout_id: string; account: string; asset: string; amount_minor: string }>(
      `SELECT payout_id, account, asset, amount_minor::text FROM payouts.payouts WHERE epoch = 1 AND account = 'contributor:alice'`,
    );
    expect(alice).toBeDefined();
    const plannedMinor = BigInt(alice!.amount_minor);
    expect(plannedMinor).toBeGreaterThan(1n);

    // The forgery, written straight to the payouts topic under the planned id (and the saga's own event id).
    await producer.publishBatch([
      {
        type: 'PayoutRequested',
        data: {
          eventId: `${alice!.payout_id}:requested`,
          payoutId: alice!.payout_id,
          accountId: alice!.account,
          occurredAt: BigInt(Date.now()),
          asset: alice!.asset,
          amountMinor: 1n,
          epoch: 1,
        },
      },
    ]);
    await eventually(
      async () =>
        expect(
          await rows('SELECT amount_minor::text, status FROM ledger.payouts WHERE payout_id = $1', [alice!.payout_id]),
        ).toEqual([{ amount_minor: '1', status: 'REQUESTED' }]),
      60_000,
      300,
    );

    // A close now must still count alice's plan as unapplied: the ledger's row under its id is not the plan.
    expect(await closeEpoch(2)).toMatchObject({ epoch: 2, created: true, payoutCount: 0 });

    const payouts = await start('services/payouts/src/main.ts', 'payouts', env(), /payouts ready/);
    const sagas = await eventually(
      async () => {
        const found = await rows<{
          payout_id: string;
          account: string;
          status: string;
          failure_reason: string | null;
          attempts: number;
          amount_minor: string;
        }>(
          'SELECT payout_id, account, status, failure_reason, attempts, amount_minor::text FROM payouts.payouts ORDER BY account',
        );
        expect(found.length).toBeGreaterThan(1);
        for (const saga of found) expect(saga.status).toBe(saga.payout_id === alice!.payout_id ? 'REFUSED' : 'SETTLED');
        return found;
      },
      90_000,
      300,
    );
    const refused = sagas.find((saga) => saga.payout_id === alice!.payout_id)!;
    expect(refused.failure_reason).toContain(`amountMinor: the ledger reserved 1, the plan is ${plannedMinor}`);
    expect(refused.attempts).toBe(0);
    expect(
      await rows('SELECT count(*)::int AS n FROM payouts.payout_attempts WHERE payout_id = $1', [alice!.payout_id]),
    ).toEqual([{ n: 0 }]);
    expect(calls.has(alice!.payout_id)).toBe(false);
    for (const saga of sagas.filter((s) => s.status === 'SETTLED')) expect(calls.get(saga.payout_id)).toBe(1);
    expect(paidMinor).toBe(
      sagas.filter((s) => s.status === 'SETTLED').reduce((sum, s) => sum + BigInt(s.amount_minor), 0n),
    );

    const base = /statement at (http:\/\/[^/\s]+)/.exec(payouts.output())![1]!;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^payouts_refused_total\{reason="amountMinor"\} 1$/m);
    const reader = {
      authorization: `Bearer ${(await issueReadCredential(database.url, ['operator'], 'payouts tests')).key}`,
    };
    const statement = (await (
      await fetch(`${base}/accounts/contributor:alice/payouts`, { headers: reader })
    ).json()) as {
      payouts: Array<{ status: string; failureReason: string }>;
    };
    expect(statement.payouts).toEqual([
      expect.objectContaining({
        status: 'REFUSED',
        failureReason: expect.stringContaining('amountMinor: the ledger reserved 1'),
      }),
    ]);
    // The ledger still holds the forged 1 unit and nothing else under that id; nothing of the plan was paid.
    expect(
      await rows('SELECT amount_minor::text, status FROM ledger.payouts WHERE payout_id = $1', [alice!.payout_id]),
    ).toEqual([{ amount_minor: '1', status: 'REQUESTED' }]);
  }, 240_000);
});
