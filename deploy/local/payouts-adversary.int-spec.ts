// Issue 19's acceptance as an adversary's walk through the whole stack: the real gateway, attribution
// service, ledger projector and payouts service, each its own OS process on a real broker and
// PostgreSQL, and a webhook receiver on 127.0.0.1 that verifies with the shipped verifier. Every event
// enters through the gateway under a scoped producer key, as a producer's would.
//
// The attacks: a producer key publishing payout events; a datanet owner's key validating or revoking a
// contribution in someone else's datanet; a PayoutRequested for less than the plan written
// straight to the payouts topic ahead of the saga's own; a receiver that pays and then answers 500, or
// never answers; a captured rail request replayed after the tolerance; a model registered on a datanet
// whose terms it breaks; a model whose datanet tightened its terms after it registered. After every case: the ledger
// verifies, no idempotency key was paid more than the ledger reserved under it, and the receiver's total
// equals the ledger's settled total.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { catalogFor, deadLetterTopicName, deadLetterTopicSpec, topicCatalog } from '@tributary/contracts';
import { DLQ_HEADERS, ensureTopics } from '@tributary/messaging';
import { TributaryProducer } from '@tributary/producer';
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
import { WEBHOOK_HEADERS } from '@tributary/payouts';
import { verifyLedger } from '../../services/ledger-projector/src/operations/ledger-queries';
import {
  keyRepository,
  post,
  scope,
  startGateway,
  type RunningGateway,
} from '../../services/gateway/test/gateway-harness';
import { WebhookReceiver } from '../../services/payouts/test/webhook-receiver';

const SECRET = 'webhook-secret-of-the-adversary-0123456789';
const OPERATOR_TOKEN = 'operator-token-of-the-adversary-0123456789';
const OWNER_EVENT_TYPES = [
  'DatanetCreated',
  'DatanetUpdated',
  'ContributionSubmitted',
  'ContributionValidated',
  'ContributionRevoked',
];
/** Contributions by datanet: dn-a is Olga's, dn-b Oscar's. */
const CONTRIBUTIONS = { 'c-a1': ['dn-a', 'alice'], 'c-a2': ['dn-a', 'bob'], 'c-b1': ['dn-b', 'carol'] } as const;

describe('payouts and the datanets behind them, attacked end to end', () => {
  const prefix = `${uniqueName('adv')}.`;
  const catalog = catalogFor(prefix);
  const { topics, groups } = catalog;
  const hook = new WebhookReceiver(SECRET);
  const processes: ServiceProcess[] = [];
  let webhookUrl: string;
  let database: TestDatabase;
  let sql: Client;
  let gateway: RunningGateway;
  let keys: Awaited<ReturnType<typeof keyRepository>>;
  const key: Record<'ownerA' | 'ownerB' | 'models' | 'mallory', string> = {
    ownerA: '',
    ownerB: '',
    models: '',
    mallory: '',
  };
  let payouts: ServiceProcess | undefined;
  let inferences = 0;

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
    PAYOUTS_RAIL: 'webhook',
    PAYOUTS_WEBHOOK_URL: webhookUrl,
    PAYOUTS_WEBHOOK_STATUS_URL: `${webhookUrl}/status`,
    PAYOUTS_WEBHOOK_SECRET: SECRET,
    PAYOUTS_WEBHOOK_TIMEOUT_MS: '2000',
    PAYOUTS_RAIL_ATTEMPTS_MAX: '3',
    PAYOUTS_RAIL_BACKOFF_BASE_MS: '100',
    PAYOUTS_RAIL_BACKOFF_MAX_MS: '200',
    PAYOUTS_RECONCILE_INTERVAL_MS: '1000',
    PAYOUTS_OPERATOR_TOKEN: OPERATOR_TOKEN,
    PAYOUTS_POLL_INTERVAL_MS: '200',
    PAYOUTS_EPOCH_AUTO_CLOSE: 'false',
    PAYOUTS_THRESHOLD_CONTRIBUTOR_MINOR: '1000',
    PAYOUTS_THRESHOLD_MODEL_OWNER_MINOR: '1000',
    PAYOUTS_THRESHOLD_DATANET_OWNER_MINOR: '1000',
    PAYOUTS_THRESHOLD_PROTOCOL_MINOR: '1',
  });
  const start = async (main: string, name: string, env: Record<string, string>, ready: RegExp) => {
    const instance = startServiceProcess(main, env, name);
    processes.push(instance);
    await eventually(() => expect(instance.output()).toMatch(ready), 120_000, 500);
    return instance;
  };
  const rows = async <T>(text: string, params: unknown[] = []) => (await sql.query(text, params)).rows as T[];
  const cli = async (...args: string[]) =>
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
  const payoutsBase = () => /statement at (http:\/\/[^/\s]+)/.exec(payouts!.output())![1]!;
  const operator = (path: string, body: unknown) =>
    fetch(`${payoutsBase()}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` },
      body: JSON.stringify(body),
    });
  const send = (type: string, data: Record<string, unknown>, producerKey: string) =>
    post(
      `${gateway.baseUrl}/events/${type}`,
      { eventId: `evt-${randomUUID()}`, occurredAt: Date.now(), ...data },
      producerKey,
    );
  const accepted = async (type: string, data: Record<string, unknown>, producerKey: string) =>
    expect((await send(type, data, producerKey)).status).toBe(202);

  /** Inferences of model-1 through the gateway, each scoring every contribution; waits until the ledger holds them. */
  const publishInferences = async (count: number) => {
    for (let index = 0; index < count; index += 1) {
      const number = inferences + index;
      await accepted(
        'InferenceCompleted',
        {
          inferenceId: `inference-${number}`,
          modelId: 'model-1',
          agentId: null,
          consumerId: `consumer-${number % 3}`,
          asset: 'USDC',
          feeMinor: '10000',
          attributions: Object.keys(CONTRIBUTIONS).map((contributionId, slot) => ({
            contributionId,
            scorePpm: 100_000 + ((number + slot) % 4) * 50_000,
          })),
          method: 'influence/v1',
          latencyMs: null,
        },
        key.models,
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
  const sagasOf = (epoch: number) =>
    rows<{ payout_id: string; account: string; amount_minor: string; status: string; attempts: number }>(
      'SELECT payout_id, account, amount_minor::text, status, attempts FROM payouts.payouts WHERE epoch = $1 ORDER BY account',
      [epoch],
    );
  const balances = async () =>
    new Map(
      (
        await rows<{ account: string; balance_minor: string }>(
          `SELECT account, balance_minor::text FROM ledger.accounts WHERE role IN ('contributor', 'model-owner', 'datanet-owner', 'protocol')`,
        )
      ).map((row) => [row.account, BigInt(row.balance_minor)]),
    );

  /**
   * What must hold after every case: the books verify; every idempotency key the receiver paid was
   * reserved by the ledger for exactly that amount; and the receiver's total is the ledger's settled total.
   * The projector applies the payouts service's events after the saga has moved, so the ledger is waited
   * for (a loaded machine lags by seconds) rather than read once.
   */
  const assertBooks = () =>
    eventually(
      async () => {
        expect((await verifyLedger(sql, 'ledger')).problems).toEqual([]);
        const reserved = new Map(
          (
            await rows<{ payout_id: string; amount_minor: string; status: string }>(
              'SELECT payout_id, amount_minor::text, status FROM ledger.payouts',
            )
          ).map((row) => [row.payout_id, row]),
        );
        for (const [payoutId, payment] of hook.paid)
          expect(BigInt(reserved.get(payoutId)?.amount_minor ?? '-1')).toBe(payment.amountMinor);
        const settledMinor = [...reserved.values()]
          .filter((row) => row.status === 'SETTLED')
          .reduce((sum, row) => sum + BigInt(row.amount_minor), 0n);
        expect([...hook.paid.values()].reduce((sum, payment) => sum + payment.amountMinor, 0n)).toBe(settledMinor);
        const [settlement] = await rows<{ balance_minor: string }>(
          `SELECT balance_minor::text FROM ledger.accounts WHERE account = 'settlement:webhook'`,
        );
        expect(BigInt(settlement?.balance_minor ?? '0')).toBe(settledMinor);
        for (const [, balance] of await balances()) expect(balance).toBeGreaterThanOrEqual(0n);
        expect(hook.badSignatures).toBe(0);
      },
      60_000,
      300,
    );

  beforeAll(async () => {
    database = await createTestDatabase('adversary');
    sql = new Client({ connectionString: database.url });
    await sql.connect();
    webhookUrl = await hook.start();
    await withAdmin((admin) =>
      ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${groups.attribution}.tables`)], 1),
    );
    keys = await keyRepository(database.url);
    key.ownerA = (
      await keys.repository.create(
        scope('olga-datanets', { eventTypes: OWNER_EVENT_TYPES, datanetIds: ['dn-a'], modelIds: [] }),
      )
    ).key;
    key.ownerB = (
      await keys.repository.create(
        scope('oscar-datanets', { eventTypes: OWNER_EVENT_TYPES, datanetIds: ['dn-b'], modelIds: [] }),
      )
    ).key;
    key.models = (
      await keys.repository.create(
        scope('mona-models', {
          eventTypes: ['ModelRegistered', 'InferenceCompleted'],
          datanetIds: [],
          modelIds: ['model-1', 'model-greedy'],
        }),
      )
    ).key;
    key.mallory = (await keys.repository.create(scope('mallory'))).key;
    gateway = await startGateway(
      { ...common(), GATEWAY_KEY_CACHE_TTL_MS: '0', GATEWAY_INSTANCE_ID: uniqueName('adv-gw') },
      'gateway-adversary',
    );
    processes.push(gateway.process);

    // The treasury records Mona's producer paying in more than her inferences will ever report in fees.
    await cli(
      'deposit',
      '--producer',
      'urn:tributary:producer:mona-models',
      '--asset',
      'USDC',
      '--amount',
      '1000000000000',
      '--reference',
      'bank:opening-deposit',
    );
    const ownerKey = (datanetId: string) => (datanetId === 'dn-a' ? key.ownerA : key.ownerB);
    await accepted(
      'DatanetCreated',
      { datanetId: 'dn-a', ownerId: 'olga', name: 'Recipes', license: 'CC-BY-4.0', curatorShareBps: 2_000 },
      key.ownerA,
    );
    await accepted(
      'DatanetCreated',
      { datanetId: 'dn-b', ownerId: 'oscar', name: 'Chess', license: 'CC0-1.0', curatorShareBps: 1_000 },
      key.ownerB,
    );
    for (const [contributionId, [datanetId, contributorId]] of Object.entries(CONTRIBUTIONS)) {
      await accepted(
        'ContributionSubmitted',
        { contributionId, datanetId, contributorId, contentHash: 'sha256:00', sizeBytes: '10', license: 'CC-BY-4.0' },
        ownerKey(datanetId),
      );
      await accepted(
        'ContributionValidated',
        { contributionId, validatorId: 'val', decision: 'ACCEPTED', qualityScoreBps: 9_000, reason: null },
        ownerKey(datanetId),
      );
    }
    await accepted(
      'ModelRegistered',
      {
        modelId: 'model-1',
        ownerId: 'mona',
        baseModel: 'base',
        datanetIds: ['dn-a', 'dn-b'],
        split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
      },
      key.models,
    );
    // Joining a group first makes the broker load its group coordinator before the services' consumers join.
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
    await publishInferences(6);
  }, 300_000);

  afterAll(async () => {
    for (const instance of processes) await instance.stop();
    await keys?.close();
    await hook.stop();
    await sql?.end();
    await database?.drop();
  });

  it('refuses payout events from a producer key at the gateway, one by one and in a batch, naming the rule', async () => {
    const forged = {
      payoutId: 'payout:1:forged',
      accountId: 'contributor:mallory',
      asset: 'USDC',
      amountMinor: '1000000',
      epoch: 1,
    };
    for (const type of ['PayoutRequested', 'PayoutSettled', 'PayoutFailed']) {
      const reply = await send(type, { ...forged, rail: 'webhook', reference: 'x', reason: 'x' }, key.mallory);
      expect(reply.status).toBe(400);
      expect(JSON.stringify(reply.body)).toContain('internalEventType');
    }
    const batch = await post(
      `${gateway.baseUrl}/events/batch`,
      {
        events: [
          { type: 'PayoutRequested', data: { eventId: `evt-${randomUUID()}`, occurredAt: Date.now(), ...forged } },
        ],
      },
      key.mallory,
    );
    expect(batch.status).toBe(400);
    await assertBooks();
  });

  it('refuses a key for datanet B validating or revoking a contribution in datanet A (403, nothing sent), and alice keeps earning', async () => {
    for (const type of ['ContributionValidated', 'ContributionRevoked']) {
      const data =
        type === 'ContributionValidated'
          ? { contributionId: 'c-a1', validatorId: 'oscar', decision: 'REJECTED', qualityScoreBps: 0, reason: 'spam' }
          : { contributionId: 'c-a1', reason: 'takedown' };
      const reply = await send(type, data, key.ownerB);
      expect(reply.status).toBe(403);
      expect(JSON.stringify(reply.body)).toContain('contributionNotInScope');
    }
    const [before] = await rows<{ balance_minor: string }>(
      `SELECT balance_minor::text FROM ledger.accounts WHERE account = 'contributor:alice'`,
    );
    await publishInferences(2);
    const [after] = await rows<{ balance_minor: string }>(
      `SELECT balance_minor::text FROM ledger.accounts WHERE account = 'contributor:alice'`,
    );
    expect(BigInt(after!.balance_minor)).toBeGreaterThan(BigInt(before!.balance_minor));
    await assertBooks();
  }, 120_000);

  it('refuses a PayoutRequested for less than the plan, written straight to the payouts topic: REFUSED, the alert rises, the receiver never hears of it', async () => {
    // Epoch 1 is planned while no payouts service runs, so the forgery gets to the ledger first.
    expect(JSON.parse(await cli('close-epoch', '--epoch', '1'))).toMatchObject({ epoch: 1, created: true });
    const [alice] = await rows<{ payout_id: string; account: string; asset: string; amount_minor: string }>(
      `SELECT payout_id, account, asset, amount_minor::text FROM payouts.payouts WHERE epoch = 1 AND account = 'contributor:alice'`,
    );
    expect(BigInt(alice!.amount_minor)).toBeGreaterThan(1n);
    const insider = await TributaryProducer.connect({
      ...testClientOptions('adversary-forger'),
      source: 'urn:tributary:forger',
      topicPrefix: prefix,
    });
    try {
      await insider.publishBatch([
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
    } finally {
      await insider.disconnect();
    }
    await eventually(
      async () =>
        expect(
          await rows('SELECT amount_minor::text FROM ledger.payouts WHERE payout_id = $1', [alice!.payout_id]),
        ).toEqual([{ amount_minor: '1' }]),
      60_000,
      300,
    );

    payouts = await start('services/payouts/src/main.ts', 'payouts', payoutsEnv(), /payouts ready/);
    const sagas = await eventually(
      async () => {
        const found = await sagasOf(1);
        for (const saga of found) expect(saga.status).toBe(saga.payout_id === alice!.payout_id ? 'REFUSED' : 'SETTLED');
        return found;
      },
      90_000,
      300,
    );
    expect(sagas.length).toBeGreaterThan(1);
    expect(hook.calls.has(alice!.payout_id)).toBe(false);
    expect(await (await fetch(`${payoutsBase()}/metrics`)).text()).toMatch(
      /^payouts_refused_total\{reason="amountMinor"\} 1$/m,
    );
    await assertBooks();
  }, 240_000);

  it('keeps a payout the receiver paid but answered 500 for, or never answered, in NEEDS_RECONCILIATION; pays it never again; the operator moves it once', async () => {
    await publishInferences(4);
    hook.mode = 'ambiguous';
    expect((await operator('/epochs/close', { epoch: 2 })).status).toBe(200);
    const waiting = await eventually(
      async () => {
        const found = await sagasOf(2);
        expect(found.length).toBeGreaterThan(1);
        expect(found.map((saga) => saga.status)).toEqual(found.map(() => 'NEEDS_RECONCILIATION'));
        return found;
      },
      90_000,
      300,
    );
    // The next epoch pays only what was earned since: the reserved amounts are not payable.
    hook.mode = 'ok';
    await publishInferences(4);
    const payable = await balances();
    expect((await operator('/epochs/close', { epoch: 3 })).status).toBe(200);
    const third = await eventually(
      async () => {
        const found = await sagasOf(3);
        expect(found.map((saga) => saga.status)).toEqual(found.map(() => 'SETTLED'));
        return found;
      },
      90_000,
      300,
    );
    for (const saga of third) expect(BigInt(saga.amount_minor)).toBe(payable.get(saga.account));
    expect(waiting.every((saga) => hook.calls.get(saga.payout_id) === 3)).toBe(true);

    for (const saga of waiting) {
      const paid = hook.paid.has(saga.payout_id);
      const answer = paid
        ? {
            outcome: 'settled',
            reference: `hook-${saga.payout_id.slice(-12)}`,
            by: 'ops:alice',
            evidence: 'found in the rail dashboard',
          }
        : { outcome: 'refused', reason: 'not in the rail records', by: 'ops:alice', evidence: 'rail support ticket 7' };
      expect((await operator(`/payouts/${saga.payout_id}/resolution`, answer)).status).toBe(200);
      expect((await operator(`/payouts/${saga.payout_id}/resolution`, answer)).status).toBe(409);
    }
    await eventually(
      async () => {
        for (const saga of await sagasOf(2))
          expect(saga.status).toBe(hook.paid.has(saga.payout_id) ? 'SETTLED' : 'FAILED');
      },
      60_000,
      300,
    );
    expect(waiting.every((saga) => hook.calls.get(saga.payout_id) === 3)).toBe(true);
    await assertBooks();
  }, 300_000);

  it('rejects a captured rail request replayed after the tolerance, and pays nothing for it', async () => {
    const captured = hook.lastAccepted!;
    expect(captured).not.toBeNull();
    const paidBefore = hook.paid.size;
    hook.now = () => Date.now() + 301_000;
    try {
      const replay = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...captured.headers },
        body: captured.body,
      });
      expect(replay.status).toBe(401);
      expect(hook.rejected.at(-1)).toBe('timestamp-too-old');
    } finally {
      hook.now = Date.now;
    }
    expect(hook.paid.size).toBe(paidBefore);
    expect(captured.headers[WEBHOOK_HEADERS.idempotencyKey]).toMatch(/^payout:/);
    await assertBooks();
  });

  it("sends a model breaking a datanet's terms to the DLQ with the rule; tightened terms refuse only later inferences; explain shows the terms used", async () => {
    const reasonOf = (message: { headers?: Record<string, unknown> }) =>
      String(message.headers?.[DLQ_HEADERS.reason] ?? '');
    const deadLetter = async (group: string, key: string) => {
      const messages = await readTopic(
        deadLetterTopicName(group),
        (message) => message.key?.toString() === key && reasonOf(message) !== '',
        60_000,
      );
      return reasonOf(messages.find((message) => message.key?.toString() === key && reasonOf(message) !== '')!);
    };
    const earlier = `inference-${inferences - 1}`;
    // Olga asks models on dn-a for half of every fee and admits only Mona's; Mona's model-1 gives 60%.
    await accepted(
      'DatanetUpdated',
      {
        datanetId: 'dn-a',
        name: null,
        license: null,
        curatorShareBps: null,
        minDataBps: 5_000,
        allowedModelOwners: ['mona'],
      },
      key.ownerA,
    );
    await publishInferences(1);
    // A key allowed to register models registers one for Mallory that gives the data nothing.
    await accepted(
      'ModelRegistered',
      {
        modelId: 'model-greedy',
        ownerId: 'mallory',
        baseModel: 'base',
        datanetIds: ['dn-a'],
        split: { protocolBps: 1_000, modelBps: 9_000, dataBps: 0 },
      },
      key.models,
    );
    const greedy = await deadLetter(`${groups.attribution}.tables`, 'model-greedy');
    expect(greedy).toContain('DATANET_TERMS');
    expect(greedy).toContain('datanet dn-a requires minDataBps 5000; model model-greedy gives dataBps 0');
    expect(greedy).toContain(
      'datanet dn-a admits only model owners [mona] (allowedModelOwners); model model-greedy is owned by mallory',
    );

    // Oscar now asks 70% on dn-b: model-1's next inference is refused, the ones before stay as decided.
    const ledgerBefore = await rows<{ n: number }>('SELECT count(*)::int AS n FROM ledger.inferences');
    await accepted(
      'DatanetUpdated',
      { datanetId: 'dn-b', name: null, license: null, curatorShareBps: null, minDataBps: 7_000 },
      key.ownerB,
    );
    await accepted(
      'InferenceCompleted',
      {
        inferenceId: 'inference-after-tightening',
        modelId: 'model-1',
        agentId: null,
        consumerId: 'consumer-0',
        asset: 'USDC',
        feeMinor: '10000',
        attributions: [{ contributionId: 'c-b1', scorePpm: 500_000 }],
        method: 'influence/v1',
        latencyMs: null,
      },
      key.models,
    );
    const refused = await deadLetter(groups.attribution, 'inference-after-tightening');
    expect(refused).toContain('DATANET_TERMS');
    expect(refused).toContain('datanet dn-b requires minDataBps 7000; model model-1 gives dataBps 6000');
    expect(await rows<{ n: number }>('SELECT count(*)::int AS n FROM ledger.inferences')).toEqual(ledgerBefore);

    const attribution = processes.find((instance) => /explain at http/.test(instance.output()))!;
    const explainPort = /explain at http:\/\/[^:]+:(\d+)/.exec(attribution.output())![1];
    const explained = (await (await fetch(`http://127.0.0.1:${explainPort}/inferences/${earlier}/explain`)).json()) as {
      lines: string[];
    };
    expect(explained.lines).toContain(
      "Terms of datanet dn-b used: minimum data share 0.00% (the model gives 60.00%), open to any model owner (the model's owner is mona).",
    );
    expect(explained.lines).toContain('Recomputed from the recorded inputs: the credits match the published decision.');
    await assertBooks();
  }, 180_000);
});
