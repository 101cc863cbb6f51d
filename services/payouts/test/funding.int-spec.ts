// Proves on the real secured broker and PostgreSQL that the treasury's funding events reach
// tributary.funding only through the operator's doors: the payouts CLI (`deposit`, `chargeback`) and the
// payouts service's HTTP endpoints behind the operator token, both running as the payouts principal
// under the catalog's ACLs. Each event lands keyed by its producer, with CloudEvents headers, and
// decodes to what was asked; a bad input is refused naming the field and nothing lands; and the gateway
// refuses a FundsDeposited from a producer's own key (400, rule internalEventType).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { KafkaMessage } from 'kafkajs';
import { catalogFor, fromRecord, topicCatalog, type FundsDeposited, type FundsReversed } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  eventually,
  principalEnv,
  readTopic,
  startServiceProcess,
  testBrokers,
  testKafkaName,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { applyServiceAcls } from '../../../deploy/kafka/src/principals';
import { keyRepository, post, scope, startGateway, type RunningGateway } from '../../gateway/test/gateway-harness';

const OPERATOR_TOKEN = 'operator-token-of-the-funding-test-0123';
const ACME = 'urn:tributary:producer:acme';
const BOLT = 'urn:tributary:producer:bolt';

describe('funding events from the treasury', () => {
  const prefix = `${uniqueName('fund')}.`;
  const catalog = catalogFor(prefix);
  const fundingTopic = catalog.topics.funding.name;
  let database: TestDatabase;
  let payouts: ServiceProcess;
  let gateway: RunningGateway;
  let keys: Awaited<ReturnType<typeof keyRepository>>;
  let producerKey: string;
  const processes: ServiceProcess[] = [];

  /** The payouts service and CLI run as the payouts principal, so the ACLs are part of what is tested. */
  const payoutsEnv = () => ({
    ...principalEnv('payouts'),
    DATABASE_URL: database.url,
    TRIBUTARY_TOPIC_PREFIX: prefix,
    PAYOUTS_HTTP_PORT: '0',
    PAYOUTS_EPOCH_AUTO_CLOSE: 'false',
    PAYOUTS_OPERATOR_TOKEN: OPERATOR_TOKEN,
  });
  const cli = (...args: string[]) =>
    promisify(execFile)(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'services/payouts/src/cli.ts',
        ...args,
      ],
      {
        env: { ...process.env, ...payoutsEnv() },
      },
    );
  const cliFailure = async (...args: string[]) => {
    const error = await cli(...args).then(
      () => undefined,
      (thrown: { code?: number; stderr?: string }) => thrown,
    );
    expect(error).toBeDefined();
    return { code: error!.code, stderr: String(error!.stderr) };
  };
  const payoutsBase = () => /statement at (http:\/\/[^/\s]+)/.exec(payouts.output())![1]!;
  const postFunding = (path: string, body: unknown, token = OPERATOR_TOKEN) =>
    post(`${payoutsBase()}${path}`, body, token);

  /** Every record on the funding topic, decoded, with its key and headers. */
  const fundingRecords = async (count: number) => {
    const messages = await readTopic(fundingTopic, count, 30_000);
    const more = await readTopic(fundingTopic, messages.length + 1, 2_000);
    return (more.length > messages.length ? more : messages).map((message: KafkaMessage) => {
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
      );
      const decoded = fromRecord(message.value, headers);
      return {
        key: message.key?.toString('utf8'),
        headers,
        type: decoded.type,
        data: decoded.data as FundsDeposited | FundsReversed,
      };
    });
  };
  const recordOf = async (eventId: string, expectedCount: number) => {
    const records = await fundingRecords(expectedCount);
    const found = records.filter((record) => record.data.eventId === eventId);
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  const expectCloudEvent = (record: Awaited<ReturnType<typeof recordOf>>, type: 'FundsDeposited' | 'FundsReversed') => {
    expect(record.type).toBe(type);
    expect(record.key).toBe(record.data.producer);
    expect(record.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_id: record.data.eventId,
      ce_type: `tributary.funding.${type}`,
      ce_source: 'urn:tributary:payouts',
      // The test stack runs a schema registry, so the service frames what it writes (Confluent framing).
      'content-type': 'application/vnd.tributary.avro+confluent',
    });
    expect(record.headers.ce_dataschema).toMatch(/^urn:tributary:schema:sha256:[0-9a-f]{64}$/);
  };

  beforeAll(async () => {
    database = await createTestDatabase('funding');
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    await applyServiceAcls(testKafkaName(), prefix);
    keys = await keyRepository(database.url);
    producerKey = (await keys.repository.create(scope('acme'))).key;
    payouts = startServiceProcess('services/payouts/src/main.ts', payoutsEnv(), 'payouts-funding');
    processes.push(payouts);
    gateway = await startGateway(
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        GATEWAY_KEY_CACHE_TTL_MS: '0',
        GATEWAY_INSTANCE_ID: uniqueName('fund-gw'),
      },
      'gateway-funding',
    );
    processes.push(gateway.process);
    await eventually(() => expect(payouts.output()).toMatch(/payouts ready/), 120_000, 500);
  }, 300_000);

  afterAll(async () => {
    for (const instance of processes) await instance.stop();
    await keys?.close();
    await database?.drop();
  });

  it('publishes a deposit and a chargeback from the CLI, keyed by the producer, with CloudEvents headers', async () => {
    const deposited = JSON.parse(
      (
        await cli(
          'deposit',
          '--producer',
          ACME,
          '--asset',
          'USDC',
          '--amount',
          '9223372036854775807',
          '--reference',
          'sepa:TX-1',
        )
      ).stdout,
    ) as { event: { eventId: string }; topic: string };
    expect(deposited.topic).toBe(fundingTopic);
    const deposit = await recordOf(deposited.event.eventId, 1);
    expectCloudEvent(deposit, 'FundsDeposited');
    expect(deposit.data).toMatchObject({
      producer: ACME,
      asset: 'USDC',
      amountMinor: 2n ** 63n - 1n,
      railReference: 'sepa:TX-1',
    });
    expect(deposit.data.eventId).toMatch(/^[0-9a-f-]{36}$/);

    const reversedOut = await cli(
      'chargeback',
      '--producer',
      ACME,
      '--asset',
      'USDC',
      '--amount',
      '2500',
      '--reference',
      'cb:77',
      '--reason',
      'card chargeback 4837',
      '--reverses',
      deposit.data.eventId,
      '--event-id',
      'cli-chargeback-1',
    );
    expect(JSON.parse(reversedOut.stdout)).toMatchObject({
      type: 'FundsReversed',
      event: { eventId: 'cli-chargeback-1', amountMinor: '2500' },
    });
    const reversal = await recordOf('cli-chargeback-1', 2);
    expectCloudEvent(reversal, 'FundsReversed');
    expect(reversal.data).toMatchObject({
      producer: ACME,
      amountMinor: 2_500n,
      railReference: 'cb:77',
      reason: 'card chargeback 4837',
      reversesEventId: deposit.data.eventId,
    });
  });

  it('refuses bad CLI input naming the field and the rule, exit code 2, and nothing lands', async () => {
    const before = (await fundingRecords(2)).length;
    const badAmount = await cliFailure(
      'deposit',
      '--producer',
      ACME,
      '--asset',
      'USDC',
      '--amount',
      '12.50',
      '--reference',
      'x',
    );
    expect(badAmount.code).toBe(2);
    expect(badAmount.stderr).toContain('amountMinor: must be a whole number of minor units written in decimal digits');
    const bareId = await cliFailure(
      'deposit',
      '--producer',
      'acme',
      '--asset',
      'USDC',
      '--amount',
      '1',
      '--reference',
      'x',
    );
    expect(bareId.code).toBe(2);
    expect(bareId.stderr).toContain("producer: must be the producer's CloudEvents source");
    const noReason = await cliFailure(
      'chargeback',
      '--producer',
      ACME,
      '--asset',
      'USDC',
      '--amount',
      '1',
      '--reference',
      'x',
    );
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
    expect(await fundingRecords(before)).toHaveLength(before);
  });

  it('publishes a deposit and a chargeback over HTTP behind the operator token; a retry with the same eventId is the same fact', async () => {
    const eventId = `http-deposit-${randomUUID()}`;
    const body = { eventId, producer: BOLT, asset: 'USDC', amountMinor: '150000', railReference: 'card:ch_1' };
    const reply = await postFunding('/funding/deposits', body);
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ type: 'FundsDeposited', topic: fundingTopic, event: { ...body } });
    const retried = await postFunding('/funding/deposits', body);
    expect(retried.status).toBe(201);
    expect(retried.body).toMatchObject({ type: 'FundsDeposited', topic: fundingTopic, event: { ...body } });
    const deposits = (await fundingRecords(4)).filter((record) => record.data.eventId === eventId);
    expect(deposits).toHaveLength(2); // the ledger deduplicates the second copy on its eventId
    for (const deposit of deposits) {
      expectCloudEvent(deposit, 'FundsDeposited');
      expect(deposit.data).toMatchObject({ producer: BOLT, amountMinor: 150_000n, railReference: 'card:ch_1' });
    }
    expect(deposits[0]!.headers.ce_dataschema).toBe(deposits[1]!.headers.ce_dataschema);

    const chargeback = await postFunding('/funding/chargebacks', {
      producer: BOLT,
      asset: 'USDC',
      amountMinor: '40000',
      railReference: 'cb:9',
      reason: 'fraudulent',
      reversesEventId: eventId,
    });
    expect(chargeback.status).toBe(201);
    const reversal = await recordOf(chargeback.body.event.eventId, 5);
    expectCloudEvent(reversal, 'FundsReversed');
    expect(reversal.data).toMatchObject({
      producer: BOLT,
      amountMinor: 40_000n,
      reason: 'fraudulent',
      reversesEventId: eventId,
    });
  });

  it('refuses a funding request without the operator token, or with a bad field (400 naming it), and nothing lands', async () => {
    const before = (await fundingRecords(5)).length;
    const body = { producer: BOLT, asset: 'USDC', amountMinor: '1', railReference: 'x' };
    expect((await post(`${payoutsBase()}/funding/deposits`, body)).status).toBe(401);
    expect((await postFunding('/funding/deposits', body, 'not-the-operator-token-at-all')).status).toBe(403);
    const asNumber = await postFunding('/funding/deposits', { ...body, amountMinor: 1 });
    expect(asNumber.status).toBe(400);
    expect(asNumber.body.message).toBe(
      'amountMinor: must be a decimal string of minor units (e.g. "1500"), not a JSON number',
    );
    const noReason = await postFunding('/funding/chargebacks', body);
    expect(noReason.status).toBe(400);
    expect(noReason.body.message).toBe('reason: is required');
    expect(await fundingRecords(before)).toHaveLength(before);
  });

  it("refuses a FundsDeposited from a producer's own key at the gateway: 400, rule internalEventType, nothing lands", async () => {
    const before = (await fundingRecords(5)).length;
    const forged = {
      eventId: `evt-${randomUUID()}`,
      occurredAt: Date.now(),
      producer: 'urn:tributary:producer:acme',
      asset: 'USDC',
      amountMinor: '1000000000',
      railReference: 'forged',
    };
    const single = await post(`${gateway.baseUrl}/events/FundsDeposited`, forged, producerKey);
    expect(single.status).toBe(400);
    expect(single.body.issues).toEqual([
      expect.objectContaining({
        path: 'eventType',
        rule: 'internalEventType',
        message: expect.stringContaining('FundsDeposited is published by the treasury service only'),
      }),
    ]);
    const batch = await post(
      `${gateway.baseUrl}/events/batch`,
      {
        events: [
          {
            type: 'FundsReversed',
            data: { ...forged, eventId: `evt-${randomUUID()}`, reason: 'x', reversesEventId: null },
          },
        ],
      },
      producerKey,
    );
    expect(batch.status).toBe(400);
    expect(JSON.stringify(batch.body)).toContain('FundsReversed is published by the treasury service only');
    expect(await fundingRecords(before)).toHaveLength(before);
  });
});
