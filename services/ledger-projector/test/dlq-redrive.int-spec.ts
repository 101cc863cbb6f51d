// Proves "re-driving a dead letter after fixing its cause applies it exactly once", on a real secured broker
// and PostgreSQL with the projector and the ledger API each running as its own principal: a payout
// arrives before the decision that funds it, so the projector refuses it for overdraft to its DLQ; the
// operator's `dlq list` and `dlq show` display it (reason, source, the event decoded); the decision
// arrives; `dlq redrive` sends the payout back to tributary.payouts and the ledger applies it once;
// re-driving it again publishes nothing and changes nothing; two re-drives of another dead letter racing
// each other publish it once; the ledger API's status and /metrics show each group's DLQ depth.
import { Client } from 'pg';
import type { Admin, Producer } from 'kafkajs';
import { catalogFor, deadLetterTopicName, toRecord, topicCatalog } from '@tributary/contracts';
import { applyServiceAcls } from '@tributary/kafka-provisioner';
import { REDRIVE_HEADERS, ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  eventually,
  principalEnv,
  readTopic,
  startServiceProcess,
  testKafka,
  testKafkaName,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { main } from '../../../deploy/kafka/src/cli';
import { redriveDeadLetters, type DlqContext } from '../../../deploy/kafka/src/dlq';
import { rebuild } from '../src/operations/rebuild';
import { decision, payoutRequested } from './fixtures';
import { issueReadCredential } from '../../ledger-api/src/database/credentials';

/** decision(0) credits contributor:c0 with 1,100 USDC minor units (fee 10,000; 55% to five contributors). */
const FUNDING = decision(0);
const ACCOUNT = 'contributor:c0';

describe('DLQ operations on the ledger projector', () => {
  const prefix = `${uniqueName('dlq')}.`;
  const catalog = catalogFor(prefix);
  const group = catalog.groups.ledgerProjector;
  const dlqTopic = deadLetterTopicName(group);
  const processes: ServiceProcess[] = [];
  let database: TestDatabase;
  let sql: Client;
  let producer: Producer;
  let apiUrl = '';
  /** The ledger API's DLQ status is an operator's read: a read credential with that scope. */
  let operatorCredential = '';

  const publish = async (eventType: Parameters<typeof toRecord>[0], data: unknown) => {
    const record = toRecord(eventType, data as never, { source: 'urn:tributary:test', topicPrefix: prefix });
    await producer.send({
      topic: record.topic,
      acks: -1,
      messages: [{ key: record.key, value: record.value, headers: record.headers }],
    });
  };
  const one = async (query: string, params: unknown[] = []) => (await sql.query(query, params)).rows[0];
  const endOffsets = (topic: string) =>
    withAdmin(async (admin: Admin) =>
      (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => `${partition}:${high}`).join(','),
    );

  /** The operator's CLI, in this process: `npm run kafka -- dlq <args> --topic-prefix <prefix>`. */
  const dlq = async (...args: string[]) => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const out = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => stdout.push(String(chunk)) > 0);
    const err = jest
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: string | Uint8Array) => stderr.push(String(chunk)) > 0);
    const exitCodeBefore = process.exitCode;
    process.exitCode = 0;
    try {
      await main(['node', 'cli', 'dlq', ...args, '--topic-prefix', prefix]);
      return { stdout: stdout.join(''), stderr: stderr.join(''), exitCode: Number(process.exitCode ?? 0) };
    } finally {
      out.mockRestore();
      err.mockRestore();
      process.exitCode = exitCodeBefore;
    }
  };

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    await applyServiceAcls(testKafkaName(), prefix);
    producer = testKafka('dlq-test').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    database = await createTestDatabase('dlq_redrive');
    sql = new Client({ connectionString: database.url, options: '-c search_path=ledger' });
    await sql.connect();
    const shared = {
      DATABASE_URL: database.url,
      TRIBUTARY_TOPIC_PREFIX: prefix,
      CONSUMER_SESSION_TIMEOUT_MS: '6000',
      CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
    };
    const projector = startServiceProcess(
      'services/ledger-projector/src/main.ts',
      { ...principalEnv('ledger-projector'), ...shared, LEDGER_PROJECTOR_HTTP_PORT: '0' },
      'ledger-projector-dlq',
    );
    processes.push(projector);
    await eventually(() => expect(projector.output()).toMatch(/ledger-projector ready/), 120_000);
    // The API's owner step runs once the projector made its tables, as in `npm start`.
    const api = startServiceProcess(
      'services/ledger-api/src/main.ts',
      { ...principalEnv('ledger-api'), ...shared, LEDGER_API_HTTP_PORT: '0', LEDGER_API_DLQ_DEPTH_TTL_MS: '1000' },
      'ledger-api-dlq',
    );
    processes.push(api);
    await eventually(() => expect(api.output()).toMatch(/ledger-api ready at (http:\/\/\S+) as role/), 120_000);
    apiUrl = /ledger-api ready at (http:\/\/\S+) as role/.exec(api.output())![1]!.replace('[::1]', '127.0.0.1');
    operatorCredential = (await issueReadCredential(database.url, ['operator'], 'dlq-redrive test')).key;
  });

  afterAll(async () => {
    for (const child of processes) await child.stop();
    await producer?.disconnect();
    await sql?.end();
    await database?.drop();
  });

  it('re-driving a dead letter after fixing its cause applies it exactly once', async () => {
    // The payout comes before the decision that funds it: refused for overdraft, to the DLQ.
    await publish('PayoutRequested', payoutRequested('p-early', ACCOUNT, 500n));
    await eventually(async () => {
      const listed = await dlq('list', '--group', 'ledger-projector', '--json');
      expect(JSON.parse(listed.stdout).deadLetters).toBe(1);
    }, 60_000);
    expect(Number((await one('SELECT count(*) FROM payouts')).count)).toBe(0);

    const listed = await dlq('list', '--group', 'ledger-projector', '--reason-contains', 'exceeds the payable balance');
    expect(listed.exitCode).toBe(0);
    expect(listed.stdout).toContain(`${dlqTopic}: 1 dead letters, 0 re-driven, depth 1`);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^0\\twaiting\\t\\S+\\t${catalog.topics.payouts.name.replace(/\./g, '\\.')}/\\d/0\\tPayoutRequested requested:p-early\\tamountMinor: 500 exceeds the payable balance 0 of ${ACCOUNT} in USDC$`,
        'm',
      ),
    );

    const shown = JSON.parse((await dlq('show', '--group', group, '--offset', '0', '--json')).stdout);
    expect(shown).toEqual(
      expect.objectContaining({
        reason: `amountMinor: 500 exceeds the payable balance 0 of ${ACCOUNT} in USDC`,
        errorClass: 'PayoutRejectedError',
        source: { topic: catalog.topics.payouts.name, partition: expect.any(Number), offset: '0' },
        consumerGroup: group,
        eventType: 'tributary.payouts.PayoutRequested',
        eventId: 'requested:p-early',
        key: ACCOUNT,
        event: expect.objectContaining({ payoutId: 'p-early', accountId: ACCOUNT, amountMinor: '500' }),
        decodeProblem: null,
        redriven: null,
      }),
    );
    const text = (await dlq('show', '--group', 'ledger-projector', '--offset', '0')).stdout;
    expect(text).toContain('error class  PayoutRejectedError');
    expect(text).toContain('"amountMinor": "500"');

    // The cause is fixed: the decision crediting the account arrives.
    await publish('InferenceAttributed', FUNDING);
    await eventually(
      async () =>
        expect(
          BigInt((await one(`SELECT balance_minor FROM accounts WHERE account = $1`, [ACCOUNT])).balance_minor),
        ).toBe(1_100n),
      60_000,
    );

    const redriven = await dlq('redrive', '--group', 'ledger-projector', '--offset', '0');
    expect([redriven.exitCode, redriven.stderr]).toEqual([0, '']);
    expect(redriven.stdout).toMatch(
      new RegExp(
        `^re-driven ${dlqTopic.replace(/\./g, '\\.')}/0/0 -> ${catalog.topics.payouts.name.replace(/\./g, '\\.')}/\\d/1\\n$`,
      ),
    );
    await eventually(
      async () =>
        expect((await one('SELECT status FROM payouts WHERE payout_id = $1', ['p-early']))?.status).toBe('REQUESTED'),
      60_000,
    );
    const ledgerAfterOne = {
      balance: (await one(`SELECT balance_minor FROM accounts WHERE account = $1`, [ACCOUNT])).balance_minor,
      entries: (await one(`SELECT count(*) FROM ledger_entries WHERE source_event_id = 'requested:p-early'`)).count,
    };
    expect(BigInt(ledgerAfterOne.balance)).toBe(600n);
    expect(Number(ledgerAfterOne.entries)).toBeGreaterThan(0);

    // Again: skipped, nothing published, nothing changes.
    const payoutsEnd = await endOffsets(catalog.topics.payouts.name);
    const again = await dlq('redrive', '--group', 'ledger-projector', '--offset', '0');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/^skipped \S+\/0\/0: already re-driven to \S+\/\d\/1 at \S+\n$/);
    expect(await endOffsets(catalog.topics.payouts.name)).toBe(payoutsEnd);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect({
      balance: (await one(`SELECT balance_minor FROM accounts WHERE account = $1`, [ACCOUNT])).balance_minor,
      entries: (await one(`SELECT count(*) FROM ledger_entries WHERE source_event_id = 'requested:p-early'`)).count,
    }).toEqual(ledgerAfterOne);
    expect(Number((await one(`SELECT count(*) FROM payouts WHERE payout_id = 'p-early'`)).count)).toBe(1);

    const after = await dlq('list', '--group', 'ledger-projector');
    expect(after.stdout).toContain(`${dlqTopic}: 1 dead letters, 1 re-driven, depth 0`);
    expect(after.stdout).toMatch(/^0\tre-driven\t/m);
  });

  it('rebuilds that log, the refused payout and its re-drive included, to the live digest', async () => {
    // Rebuilt, the early payout would find its funding applied first (attributions before payouts) and
    // be accepted at its first position, and its re-drive skipped as a duplicate: other chain heads. The
    // rebuild refuses what live refused, so it reaches live's digest, with one worker or two.
    for (const workers of [1, 2]) {
      const result = await rebuild({
        databaseUrl: database.url,
        brokers: process.env.KAFKA_BROKERS!.split(','),
        clientId: 'test',
        groupId: group,
        topics: [catalog.topics.attributions.name, catalog.topics.payouts.name, catalog.topics.funding.name],
        schema: `ledger_rebuild_dlq_w${workers}`,
        batchSizeMax: 500,
        partitionsConcurrently: 3,
        workers,
        stallTimeoutMs: 60_000,
      });
      expect({ workers, matches: result.matches, rejected: result.rejected }).toEqual({
        workers,
        matches: true,
        rejected: 1,
      });
    }
  });

  it('publishes a dead letter once when two re-drives of it race, and refuses what is not a dead letter', async () => {
    // Another overdraft that no decision will fund.
    await publish('PayoutRequested', payoutRequested('p-big', ACCOUNT, 1_000_000n));
    let offset = '';
    await eventually(async () => {
      const listing = JSON.parse(
        (await dlq('list', '--group', 'ledger-projector', '--reason-contains', 'amountMinor: 1000000', '--json'))
          .stdout,
      );
      expect(listing.shown).toHaveLength(1);
      offset = listing.shown[0].dlq.offset;
    }, 60_000);
    const context: DlqContext = { kafka: testKafka('dlq-race'), catalog };
    const races = await Promise.allSettled([
      redriveDeadLetters(context, group, [offset]),
      redriveDeadLetters(context, group, [offset]),
    ]);
    const outcomes = races.flatMap((race) =>
      race.status === 'fulfilled'
        ? race.value.map((outcome) => outcome.outcome)
        : [`not committed: ${(race.reason as Error).message}`],
    );
    expect([outcomes.filter((outcome) => outcome === 'redriven').length, outcomes]).toEqual([1, expect.anything()]);
    // Everything committed to the payouts topic (the reader stops on its timeout), so a second copy would be counted.
    const copies = await readTopic(catalog.topics.payouts.name, () => false, 8_000);
    expect(
      copies.filter(
        (message) => message.headers?.[REDRIVE_HEADERS.redrivenFrom]?.toString() === `${dlqTopic}/0/${offset}`,
      ),
    ).toHaveLength(1);

    // Its cause was not fixed: it comes back to the DLQ as a new dead letter, carrying where it was re-driven from.
    await eventually(async () => {
      const listing = JSON.parse(
        (await dlq('list', '--group', 'ledger-projector', '--reason-contains', 'amountMinor: 1000000', '--json'))
          .stdout,
      );
      expect(listing.shown.map((row: { redriven: unknown }) => row.redriven !== null)).toEqual([true, false]);
      expect(listing.depth).toBe(1);
    }, 60_000);

    const refused = await dlq('redrive', '--group', 'ledger-projector', '--offset', '1', '--offset', '999');
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toContain(`refused ${dlqTopic}/0/1: a re-drive marker (of offset 0), not a dead letter`);
    expect(refused.stdout).toMatch(/refused \S+\/0\/999: no record at this offset \(the DLQ ends at \d+\)/);

    const badGroup = await dlq('list', '--group', 'nobody');
    expect(badGroup.exitCode).toBe(1);
    expect(badGroup.stderr).toMatch(
      /^tributary: --group must be a consumer group of the catalog \(.*\), got 'nobody': /,
    );
  });

  it("shows every group's DLQ depth: the depth command, the ledger API's status and its /metrics", async () => {
    const depth = JSON.parse((await dlq('depth', '--json')).stdout);
    expect(depth).toEqual(
      expect.arrayContaining([
        { group, topic: dlqTopic, deadLetters: 3, redriven: 2, depth: 1 },
        {
          group: catalog.groups.attribution,
          topic: deadLetterTopicName(catalog.groups.attribution),
          deadLetters: 0,
          redriven: 0,
          depth: 0,
        },
      ]),
    );
    expect(depth).toHaveLength(Object.keys(catalog.groups).length);

    await eventually(async () => {
      const status = (await (
        await fetch(`${apiUrl}/v1/dlq`, { headers: { authorization: `Bearer ${operatorCredential}` } })
      ).json()) as { depth: number | null; groups: unknown[] };
      expect(status.depth).toBe(1);
      expect(status.groups).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ group, depth: 1, deadLetters: 3, redriven: 2, problem: null }),
        ]),
      );
      const metrics = await (await fetch(`${apiUrl}/metrics`)).text();
      expect(metrics).toContain(`dlq_depth{group="${group}"} 1`);
      expect(metrics).toContain(`dlq_depth{group="${catalog.groups.payouts}"} 0`);
      expect(metrics).toContain('dlq_depth_read_ok 1');
    }, 60_000);
  });
});
