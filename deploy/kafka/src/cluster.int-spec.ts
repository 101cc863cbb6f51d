// Proves `start --brokers 3` makes the cluster the README promises: Kafka's own kafka-topics, run
// through the provisioner's `cli` command, shows every event topic the local start-up creates with 3
// replicas, all in sync, and min.insync.replicas=2; kafka-metadata-quorum shows three voters and a
// leader; and the cluster is secured like the single broker (the operator gets in, a wrong password
// does not, and the services' ACLs are in place).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { topicCatalog } from '@tributary/contracts';
import { prepareBroker } from '../../local/src/broker-ready';
import { startTestCluster, type TestCluster } from '@tributary/testing';
import { describeQuorum } from './cluster';
import { applyServiceAcls } from './principals';
import { REPO_ROOT } from './paths';

const CLI = path.join(REPO_ROOT, 'deploy', 'kafka', 'src', 'cli.ts');

/** `npm run kafka -- cli <tool> ...`, as an operator types it. */
async function kafkaCli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', CLI, 'cli', ...args],
    {
      cwd: REPO_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return stdout;
}

interface DescribedTopic {
  replicationFactor: number;
  configs: string;
  partitions: Array<{ replicas: string[]; isr: string[] }>;
}

/** kafka-topics --describe's text, topic by topic. */
function parseDescribe(text: string): Map<string, DescribedTopic> {
  const topics = new Map<string, DescribedTopic>();
  for (const line of text.split('\n')) {
    const header =
      /^Topic: (\S+)\s+TopicId: \S+\s+PartitionCount: \d+\s+ReplicationFactor: (\d+)\s+Configs: (.*)$/.exec(
        line.trim(),
      );
    if (header) {
      topics.set(header[1]!, { replicationFactor: Number(header[2]), configs: header[3]!, partitions: [] });
      continue;
    }
    const partition = /Topic: (\S+)\s+Partition: \d+\s+Leader: \S+\s+Replicas: (\S+)\s+Isr: (\S+)/.exec(line);
    if (partition)
      topics.get(partition[1]!)?.partitions.push({ replicas: partition[2]!.split(','), isr: partition[3]!.split(',') });
  }
  return topics;
}

describe('a local three-node cluster', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster();
    // What `npm start` does before the services start: create the catalog with the env's replication factor.
    await prepareBroker({ ...process.env, ...cluster.env }, () => undefined);
  }, 420_000);

  it('hands clients every broker and the replication factor 3', () => {
    expect(cluster.env.KAFKA_BROKERS!.split(',')).toEqual(
      [0, 1, 2].map((index) => `127.0.0.1:${cluster.port + index}`),
    );
    expect(cluster.env.KAFKA_REPLICATION_FACTOR).toBe('3');
  });

  it('keeps every event topic on 3 replicas, all in sync, with min.insync.replicas=2, as kafka-topics shows', async () => {
    const text = await kafkaCli(
      'kafka-topics',
      '--bootstrap-server',
      cluster.env.KAFKA_BROKERS!,
      '--command-config',
      cluster.env.KAFKA_COMMAND_CONFIG!,
      '--describe',
    );
    const described = parseDescribe(text);
    const expected = topicCatalog().map((spec) => spec.name);
    expect(expected.length).toBeGreaterThan(0);
    for (const name of [...expected, '__consumer_offsets', '__transaction_state']) {
      const topic = described.get(name);
      expect({ name, replicationFactor: topic?.replicationFactor }).toEqual({ name, replicationFactor: 3 });
      if (!name.startsWith('__'))
        expect({ name, configs: topic!.configs }).toEqual({
          name,
          configs: expect.stringMatching(/(^|,)min\.insync\.replicas=2(,|$)/),
        });
      for (const partition of topic!.partitions) {
        expect({ name, replicas: partition.replicas.length, isr: partition.isr.length }).toEqual({
          name,
          replicas: 3,
          isr: 3,
        });
      }
    }
    // Kafka's own internal topics follow the cluster: two of three in sync for transactions.
    expect(described.get('__transaction_state')!.configs).toMatch(/min\.insync\.replicas=2/);
  }, 120_000);

  it('runs a quorum of three voters with an active controller, as kafka-metadata-quorum shows', async () => {
    const quorum = await describeQuorum(cluster.name);
    expect(quorum.voters).toEqual([1, 2, 3]);
    expect([1, 2, 3]).toContain(quorum.leaderId);
    // The same through a broker, as the operator, the way an operator without the brokers' certificate asks.
    const text = await kafkaCli(
      'kafka-metadata-quorum',
      '--bootstrap-server',
      cluster.env.KAFKA_BROKERS!,
      '--command-config',
      cluster.env.KAFKA_COMMAND_CONFIG!,
      'describe',
      '--status',
    );
    expect(text).toMatch(/^LeaderId:\s+[123]$/m);
    expect(text).toMatch(/CurrentVoters:.*"id": 1.*"id": 2.*"id": 3/);
  }, 120_000);

  it('is secured like the single broker: the services hold their ACLs, and a wrong password is refused', async () => {
    expect((await applyServiceAcls(cluster.name)).created).toEqual([]);
    const refused = new Kafka({
      clientId: 'cluster-spec-intruder',
      brokers: cluster.env.KAFKA_BROKERS!.split(','),
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      ssl: { ca: [fs.readFileSync(cluster.env.KAFKA_CA_FILE!, 'utf8')] },
      sasl: { mechanism: 'scram-sha-512', username: 'operator', password: 'not-the-password' },
    }).admin();
    await expect(refused.connect()).rejects.toThrow(/SASL|authentication/i);
  }, 60_000);
});
