// Proves what moving the ledger projector's offsets does, on a real secured broker and PostgreSQL with
// the projector its own process. `npm run kafka -- offsets reset` refuses while a member runs (naming
// it); on the stopped group it sets the database's offsets and Kafka's to the log start, and the
// restarted projector reads every decision again, applies none twice (the ledger and its digest are
// unchanged) and leaves both copies equal at the end. A reset done with Kafka's own
// kafka-consumer-groups --reset-offsets is refused by the restarted projector with one warn line per
// partition naming both offsets and the command to use: it reads nothing again, and Kafka's copy is set
// back to the database's.
import * as path from 'node:path';
import { Client } from 'pg';
import { catalogFor, toRecord, topicCatalog } from '@tributary/contracts';
import { runKafkaCli } from '@tributary/kafka-provisioner';
import { ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  eventually,
  startServiceProcess,
  testBrokers,
  testKafka,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { runCommand } from '../../../deploy/kafka/src/process';
import { readDigest } from '../src/operations/ledger-queries';
import { decision } from './fixtures';

const DECISIONS = 600;
const REPO_ROOT = path.resolve(__dirname, '../../..');

describe("moving the ledger projector's offsets", () => {
  const prefix = `${uniqueName('t')}.`;
  const catalog = catalogFor(prefix);
  const group = catalog.groups.ledgerProjector;
  const attributions = catalog.topics.attributions.name;
  let database: TestDatabase;
  let sql: Client;
  let projector: ServiceProcess | null = null;
  let endOffsets: Map<number, bigint>;
  let digest: string;

  const startProjector = async (name: string) => {
    const started = startServiceProcess(
      'services/ledger-projector/src/main.ts',
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        LEDGER_PROJECTOR_HTTP_PORT: '0',
        CONSUMER_SESSION_TIMEOUT_MS: '6000',
        CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
      },
      name,
    );
    projector = started;
    await eventually(
      () => expect(started.output()).toMatch(/ledger-projector ready: health at (http:\/\/\S+)\/health\/ready/),
      90_000,
    );
    return started;
  };
  const stopProjector = async () => {
    await projector?.stop();
    projector = null;
  };
  /** The offsets command as an operator types it, with this test's environment. */
  const offsetsCommand = (...args: string[]) =>
    runCommand(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        path.join(REPO_ROOT, 'deploy/kafka/src/cli.ts'),
        'offsets',
        ...args,
      ],
      {
        env: {
          ...process.env,
          TS_NODE_TRANSPILE_ONLY: 'true',
          TRIBUTARY_TOPIC_PREFIX: prefix,
          DATABASE_URL: database.url,
        },
      },
    );
  const databaseOffsets = async () =>
    new Map(
      (
        await sql.query<{ partition: number; next_offset: string }>(
          'SELECT partition, next_offset::text FROM ledger.consumer_offsets WHERE group_id = $1 AND topic = $2',
          [group, attributions],
        )
      ).rows.map((row) => [row.partition, BigInt(row.next_offset)] as const),
    );
  const kafkaOffsets = async () => {
    const [committed] = await withAdmin((admin) => admin.fetchOffsets({ groupId: group, topics: [attributions] }));
    return new Map(committed!.partitions.map(({ partition, offset }) => [partition, BigInt(offset)] as const));
  };
  const applied = async () => Number((await sql.query('SELECT count(*) FROM ledger.applied_events')).rows[0].count);
  /** Records of the attributions topic the running projector handed to its writer since it started. */
  const recordsRead = async (running: ServiceProcess) => {
    const url = /ledger-projector ready: health at (http:\/\/\S+)\/health\/ready/.exec(running.output())![1];
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const sum = new RegExp(
      `^ledger_batch_size_records_sum\\{topic="${attributions.replace(/\./g, '\\.')}"\\} (\\d+)`,
      'm',
    ).exec(metrics);
    return sum ? Number(sum[1]) : 0;
  };

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const records = Array.from({ length: DECISIONS }, (_, index) =>
      toRecord('InferenceAttributed', decision(index), { source: 'urn:tributary:test', topicPrefix: prefix }),
    );
    await producer.send({
      topic: attributions,
      acks: -1,
      messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    });
    await producer.disconnect();
    endOffsets = new Map(
      (await withAdmin((admin) => admin.fetchTopicOffsets(attributions))).map(
        ({ partition, high }) => [partition, BigInt(high)] as const,
      ),
    );
    database = await createTestDatabase('offset_reset');
    sql = new Client({ connectionString: database.url });
    await sql.connect();
    await startProjector('ledger-projector-offsets-1');
    await eventually(async () => expect(await applied()).toBe(DECISIONS), 120_000);
    await eventually(async () => expect(await kafkaOffsets()).toEqual(endOffsets), 30_000);
    digest = await readDigest(sql, 'ledger');
  }, 300_000);

  afterAll(async () => {
    await stopProjector();
    await sql?.end();
    await database?.drop();
  });

  it('shows both copies and refuses to reset while the projector runs, naming its member', async () => {
    const shown = await offsetsCommand('show', '--group', group, '--topic', attributions);
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`group ${group} (ledger-projector): offsets in PostgreSQL schema ledger`);
    expect(shown.stdout).toMatch(/members: 1 active: \S+ \(client tributary on /);
    for (const [partition, end] of endOffsets) {
      expect(shown.stdout).toMatch(
        new RegExp(
          `^${attributions.replace(/\./g, '\\.')}\\s+${partition}\\s+${end}\\s+${end}\\s+0\\s+${end}\\s+0$`,
          'm',
        ),
      );
    }

    const refused = await offsetsCommand('reset', '--group', group, '--to-earliest', '--execute');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^tributary: group ${group.replace(/\./g, '\\.')} has 1 active member: \\S+ \\(client tributary on [^)]+\\): stop them first`,
      ),
    );
    expect(await databaseOffsets()).toEqual(endOffsets);
    expect(await kafkaOffsets()).toEqual(endOffsets);
  }, 120_000);

  it('resets a stopped group to the log start in both copies; the projector reads everything again and changes nothing', async () => {
    await stopProjector();
    const dryRun = await offsetsCommand('reset', '--group', group, '--topic', attributions, '--to-earliest');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('(dry run: add --execute to apply)');
    expect(await databaseOffsets()).toEqual(endOffsets);

    const reset = await offsetsCommand(
      'reset',
      '--group',
      group,
      '--topic',
      attributions,
      '--to-earliest',
      '--execute',
    );
    expect(reset.stderr).toBe('');
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain(`group ${group}: offsets set in the database and Kafka (database first):`);
    const zero = new Map([...endOffsets.keys()].map((partition) => [partition, 0n] as const));
    expect(await databaseOffsets()).toEqual(zero);
    expect(await kafkaOffsets()).toEqual(zero);

    const restarted = await startProjector('ledger-projector-offsets-2');
    await eventually(async () => expect(await recordsRead(restarted)).toBe(DECISIONS), 120_000);
    await eventually(async () => expect(await databaseOffsets()).toEqual(endOffsets), 60_000);
    await eventually(async () => expect(await kafkaOffsets()).toEqual(endOffsets), 30_000);
    expect(await applied()).toBe(DECISIONS);
    expect(await readDigest(sql, 'ledger')).toBe(digest);
    expect(restarted.output()).not.toMatch(/differs from the database's/);
  }, 300_000);

  it('refuses a reset done with kafka-consumer-groups, loudly, and moves nothing', async () => {
    await stopProjector();
    const tool = await runKafkaCli('kafka-consumer-groups', [
      '--bootstrap-server',
      testBrokers().join(','),
      '--command-config',
      process.env.KAFKA_COMMAND_CONFIG!,
      '--group',
      group,
      '--topic',
      attributions,
      '--reset-offsets',
      '--to-earliest',
      '--execute',
    ]);
    expect(tool.code).toBe(0);
    expect(await kafkaOffsets()).toEqual(new Map([...endOffsets.keys()].map((partition) => [partition, 0n] as const)));

    const restarted = await startProjector('ledger-projector-offsets-3');
    for (const [partition, end] of endOffsets) {
      const line = `group ${group} ${attributions}[${partition}]: Kafka's committed offset 0 differs from the database's ${end} (a reset with kafka-consumer-groups, or a crash between the two commits); refused:`;
      await eventually(() => expect(restarted.output()).toContain(line), 60_000);
    }
    expect(restarted.output()).toMatch(/WARN/);
    expect(restarted.output()).toContain(
      `npm run kafka -- offsets reset --group ${group} --topic ${attributions} --partition 0 --to-offset 0 --execute`,
    );
    // Kafka's copy is set back to the database's; nothing is read again, the ledger is untouched.
    await eventually(async () => expect(await kafkaOffsets()).toEqual(endOffsets), 30_000);
    expect(await databaseOffsets()).toEqual(endOffsets);
    expect(await recordsRead(restarted)).toBe(0);
    expect(await applied()).toBe(DECISIONS);
    expect(await readDigest(sql, 'ledger')).toBe(digest);
  }, 300_000);
});
