// Proves that on a three-node cluster (replication factor 3, min.insync.replicas 2) losing one node
// loses nothing acknowledged: inferences flow through the real gateway (HTTP 202) and a direct
// TributaryProducer while one broker is killed with SIGKILL and restarted, then while the active
// controller is; afterwards every acknowledged event is in Kafka exactly once, no event is there twice,
// the attribution service (a child process) decided every inference exactly once, the ledger projector
// (another child process) booked every decision, its digest equals that of a clean projection of the
// same log into a fresh schema (the operator's `rebuild`), and no service exited. A service that does
// exit is restarted, as an orchestrator would, so the rest is still checked, and the test fails on the
// exit. It prints the longest stall it saw (the longest gap between two acknowledgements) and what it
// counted.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { Client } from 'pg';
import { kafkaClientOptions, kafkaEnv } from '@tributary/config';
import { CE_HEADERS, catalogFor, deadLetterTopicSpec, topicCatalog } from '@tributary/contracts';
import { clusterNodes, describeQuorum } from '@tributary/kafka-provisioner';
import { ensureTopics } from '@tributary/messaging';
import { TributaryProducer } from '@tributary/producer';
import {
  startServiceProcess,
  startTestCluster,
  testDatabaseUrl,
  eventually,
  type ServiceProcess,
  type TestCluster,
} from '@tributary/testing';
import { dropDatabase, ensurePostgres, withDatabase } from './src';
import {
  keyRepository,
  post,
  scope,
  startGateway,
  type RunningGateway,
} from '../../services/gateway/test/gateway-harness';
import { rebuild } from '../../services/ledger-projector/src/operations/rebuild';

const MODEL = 'model-faults';
const DATANET = 'dn-faults';
const CONTRIBUTION = 'c-faults';
/** Pauses between sends of each source: steady traffic a small machine carries beside three brokers. */
const GATEWAY_PAUSE_MS = 40;
const PRODUCER_PAUSE_MS = 80;
/** How long traffic runs around each kill before the node is restarted, and after it is back. */
const DOWN_MS = 8_000;
const SETTLE_MS = 3_000;
const ISR_WAIT_MS_MAX = 120_000;
const FEE_MINOR = 1_000n;

type Source = 'gateway' | 'producer';
interface Ack {
  readonly source: Source;
  readonly eventId: string;
  readonly atMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const headerOf = (message: KafkaMessage, name: string) => message.headers?.[name]?.toString();

/** The longest gap between consecutive acknowledgements in `acks` (sorted by time), in ms. */
function longestStallMs(acks: readonly Ack[]): number {
  const times = acks.map((ack) => ack.atMs).sort((a, b) => a - b);
  let longest = 0;
  for (let index = 1; index < times.length; index += 1) longest = Math.max(longest, times[index]! - times[index - 1]!);
  return longest;
}

/**
 * Runs `use` with the cluster's client environment in process.env: the rebuild reads its credentials
 * from there (kafkaEnv), as the operator's CLI does, while this jest worker's own env names the suite's
 * single broker.
 */
async function withEnv<T>(env: Record<string, string>, use: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await use();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe('a three-node cluster losing a node', () => {
  const catalog = catalogFor('');
  const { topics, groups } = catalog;
  const databaseName = `tributary_test_clu_faults_${randomUUID().slice(0, 8)}`;
  const sent = new Map<string, Source>();
  const acks: Ack[] = [];
  const failures: Record<Source, number> = { gateway: 0, producer: 0 };
  const processes: ServiceProcess[] = [];
  let databaseUrl: string;
  let cluster: TestCluster;
  let gateway: RunningGateway;
  let attribution: ServiceProcess;
  let projector: ServiceProcess;
  let producer: TributaryProducer;
  let apiKey: string;
  let traffic: { stop(): Promise<void> } | undefined;
  let stopping = false;
  /** The nodes killed, with what each was to the services when it died. */
  const killed: Array<{ nodeId: number; roles: readonly string[] }> = [];
  /** Every exit of a service while the test ran; the test expects none. */
  const exits: string[] = [];
  const startedMs = Date.now();

  const kafkaOf = () =>
    new Kafka({ ...kafkaClientOptions(kafkaEnv(cluster.env), 'faults-spec'), logLevel: logLevel.NOTHING });
  const serviceEnv = () => ({ ...cluster.env, DATABASE_URL: databaseUrl });
  const consumerEnv = {
    CONSUMER_SESSION_TIMEOUT_MS: '6000',
    CONSUMER_REBALANCE_TIMEOUT_MS: '6000',
    CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
  };

  const inference = (eventId: string) => ({
    eventId,
    inferenceId: `inference-${eventId}`,
    occurredAt: Date.now(),
    modelId: MODEL,
    agentId: null,
    consumerId: 'consumer-1',
    asset: 'USDC',
    feeMinor: FEE_MINOR.toString(),
    attributions: [{ contributionId: CONTRIBUTION, scorePpm: 500_000 }],
    method: 'influence/v1',
    latencyMs: null,
  });

  /** Two loops, one per source, each sending one inference at a time and noting when Kafka acknowledged it. */
  const startTraffic = () => {
    let running = true;
    const gatewayLoop = async () => {
      while (running) {
        const eventId = `evt-gw-${randomUUID()}`;
        sent.set(eventId, 'gateway');
        const reply = await post(`${gateway.baseUrl}/events/InferenceCompleted`, inference(eventId), apiKey).catch(
          () => undefined,
        );
        if (reply?.status === 202) acks.push({ source: 'gateway', eventId, atMs: Date.now() });
        else failures.gateway += 1;
        await sleep(GATEWAY_PAUSE_MS);
      }
    };
    const producerLoop = async () => {
      while (running) {
        const eventId = `evt-direct-${randomUUID()}`;
        sent.set(eventId, 'producer');
        const data = {
          ...inference(eventId),
          feeMinor: FEE_MINOR,
          attributions: [{ contributionId: CONTRIBUTION, scorePpm: 500_000n }],
        };
        try {
          await producer.publish('InferenceCompleted', data as never);
          acks.push({ source: 'producer', eventId, atMs: Date.now() });
        } catch {
          failures.producer += 1;
        }
        await sleep(PRODUCER_PAUSE_MS);
      }
    };
    const loops = Promise.all([gatewayLoop(), producerLoop()]);
    return {
      stop: async () => {
        running = false;
        await loops;
      },
    };
  };

  /** Until every partition of the topics the test writes has all three replicas in sync again. */
  const waitForFullIsr = async () => {
    const admin = kafkaOf().admin();
    await admin.connect();
    try {
      await eventually(
        async () => {
          const metadata = await admin.fetchTopicMetadata({
            topics: [topics.inferences.name, topics.attributions.name],
          });
          const short = metadata.topics.flatMap((topic) =>
            topic.partitions
              .filter((partition) => partition.isr.length < 3)
              .map((partition) => `${topic.name}/${partition.partitionId}`),
          );
          expect(short).toEqual([]);
        },
        ISR_WAIT_MS_MAX,
        1_000,
      );
    } finally {
      await admin.disconnect();
    }
  };

  /**
   * The members of each service's consumer groups: one process each, so one member each once a dead
   * member's session has expired. Two would mean a consumer running twice in one process (a restart
   * racing another), which no stop() ends.
   */
  const serviceGroups = [groups.attribution, groups.attributionTables, groups.ledgerProjector];
  const oneMemberEach = Object.fromEntries(serviceGroups.map((group) => [group, 1]));
  const membersOfServiceGroups = async (): Promise<Record<string, number>> => {
    const admin = kafkaOf().admin();
    await admin.connect();
    try {
      const { groups: described } = await admin.describeGroups(serviceGroups);
      return Object.fromEntries(described.map((group) => [group.groupId, group.members.length]));
    } finally {
      await admin.disconnect();
    }
  };

  /** Notes a service's exit; `restart` does what an orchestrator would, so the decisions can still be checked. */
  const watchExit = (name: string, service: ServiceProcess, restart: () => void) => {
    service.child.once('exit', (code, signal) => {
      if (stopping) return;
      exits.push(`${name} exited (code ${code}, signal ${signal}) at +${Date.now() - startedMs} ms`);
      process.stdout.write(`faults: ${exits[exits.length - 1]}; restarting it\n`);
      restart();
    });
  };
  const startAttribution = () => {
    attribution = startServiceProcess(
      'services/attribution/src/main.ts',
      { ...serviceEnv(), ...consumerEnv, ATTRIBUTION_HTTP_PORT: '0', ATTRIBUTION_ORDERING_GRACE_MS: '500' },
      'attribution-faults',
    );
    processes.push(attribution);
    watchExit('attribution', attribution, startAttribution);
  };
  const startProjector = () => {
    projector = startServiceProcess(
      'services/ledger-projector/src/main.ts',
      { ...serviceEnv(), ...consumerEnv, LEDGER_PROJECTOR_HTTP_PORT: '0' },
      'ledger-projector-faults',
    );
    processes.push(projector);
    watchExit('ledger projector', projector, startProjector);
  };

  /**
   * What each node is to the services right now: the active controller, the group coordinator (the
   * leader of `__consumer_offsets`, which has one partition here, so it coordinates every group), the
   * transaction coordinator (the leader of `__transaction_state`, likewise for every transactional id)
   * and the leader of how many inference partitions.
   */
  const rolesOfNodes = async (controllerId: number): Promise<Map<number, string[]>> => {
    const admin = kafkaOf().admin();
    await admin.connect();
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({
        topics: ['__consumer_offsets', '__transaction_state', topics.inferences.name],
      });
      const roles = new Map<number, string[]>([1, 2, 3].map((nodeId) => [nodeId, []]));
      roles.get(controllerId)?.push('active controller');
      const leaderOf = (topic: string) => metadata.find((entry) => entry.name === topic)!.partitions;
      for (const { leader } of leaderOf('__consumer_offsets')) roles.get(leader)?.push('group coordinator');
      for (const { leader } of leaderOf('__transaction_state')) roles.get(leader)?.push('transaction coordinator');
      for (const [nodeId, list] of roles) {
        const led = leaderOf(topics.inferences.name).filter((partition) => partition.leader === nodeId).length;
        if (led > 0) list.push(`leader of ${led} inference partitions`);
      }
      return roles;
    } finally {
      await admin.disconnect();
    }
  };

  /**
   * The broker to kill first: not the active controller (killed second), and holding as many of the
   * coordinators as a node besides it does, so between the two kills the group coordinator always
   * dies, and the transaction coordinator too unless it sits alone on the third node.
   */
  const brokerToKill = (roles: Map<number, string[]>): number => {
    const weight = (list: readonly string[]) =>
      list.includes('active controller')
        ? -1
        : (list.includes('group coordinator') ? 4 : 0) + (list.includes('transaction coordinator') ? 2 : 0) + 1;
    return [...roles.entries()].sort((a, b) => weight(b[1]) - weight(a[1]) || a[0] - b[0])[0]![0];
  };

  /** SIGKILL one node, keep traffic flowing while it is down, start it again, wait until it is back in sync. */
  const killAndRestart = async (nodeId: number, roles: readonly string[]) => {
    const node = clusterNodes(cluster.name).find((candidate) => candidate.nodeId === nodeId)!;
    expect(node.pid).toBeDefined();
    killed.push({ nodeId, roles });
    process.stdout.write(
      `faults: SIGKILL node ${nodeId} (${roles.join(', ')}; pid ${node.pid}) at +${Date.now() - startedMs} ms\n`,
    );
    process.kill(node.pid!, 'SIGKILL');
    await sleep(DOWN_MS);
    await cluster.restartMissingNodes();
    process.stdout.write(`faults: node ${nodeId} restarted at +${Date.now() - startedMs} ms\n`);
    await waitForFullIsr();
    await sleep(SETTLE_MS);
  };

  beforeAll(async () => {
    databaseUrl = withDatabase(new URL(testDatabaseUrl()), databaseName);
    await ensurePostgres(databaseUrl);
    cluster = await startTestCluster((line) => process.stdout.write(`faults: ${line}\n`));
    const admin = kafkaOf().admin();
    await admin.connect();
    await ensureTopics(
      admin,
      [
        ...topicCatalog(catalog),
        deadLetterTopicSpec(groups.attribution),
        deadLetterTopicSpec(groups.attributionTables),
        deadLetterTopicSpec(groups.ledgerProjector),
      ],
      3,
    );
    await admin.disconnect();
    const keys = await keyRepository(databaseUrl);
    apiKey = (await keys.repository.create(scope('clu-faults'))).key;
    await keys.close();
    gateway = await startGateway(
      { ...serviceEnv(), GATEWAY_KEY_CACHE_TTL_MS: '0', GATEWAY_INSTANCE_ID: 'clu-faults-gw' },
      'gateway-faults',
    );
    processes.push(gateway.process);
    const accepted = async (type: string, data: Record<string, unknown>) =>
      expect(
        (
          await post(
            `${gateway.baseUrl}/events/${type}`,
            { eventId: `evt-${randomUUID()}`, occurredAt: Date.now(), ...data },
            apiKey,
          )
        ).status,
      ).toBe(202);
    await accepted('DatanetCreated', {
      datanetId: DATANET,
      ownerId: 'curator',
      name: DATANET,
      license: 'CC0-1.0',
      curatorShareBps: 1_000,
    });
    await accepted('ContributionSubmitted', {
      contributionId: CONTRIBUTION,
      datanetId: DATANET,
      contributorId: 'contributor',
      contentHash: 'sha256:00',
      sizeBytes: '10',
      license: 'CC0-1.0',
    });
    await accepted('ContributionValidated', {
      contributionId: CONTRIBUTION,
      validatorId: 'val',
      decision: 'ACCEPTED',
      qualityScoreBps: 9_000,
      reason: null,
    });
    await accepted('ModelRegistered', {
      modelId: MODEL,
      ownerId: 'owner',
      baseModel: 'base',
      datanetIds: [DATANET],
      split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
    });
    watchExit('gateway', gateway.process, () => undefined);
    startAttribution();
    startProjector();
    await eventually(() => expect(attribution.output()).toMatch(/attribution ready/), 180_000, 500);
    await eventually(() => expect(projector.output()).toMatch(/ledger-projector ready/), 180_000, 500);
    producer = await TributaryProducer.connect({
      ...kafkaClientOptions(kafkaEnv(cluster.env), 'clu-faults-direct'),
      source: 'urn:tributary:producer:clu-faults-direct',
    });
  }, 600_000);

  afterAll(async () => {
    stopping = true;
    await traffic?.stop();
    await producer?.disconnect().catch(() => undefined);
    for (const instance of processes) await instance.stop();
    if (databaseUrl) await dropDatabase(databaseUrl);
  }, 120_000);

  it('loses and duplicates nothing acknowledged while a broker, then the active controller, is killed and restarted', async () => {
    traffic = startTraffic();
    await sleep(SETTLE_MS);
    const before = await describeQuorum(cluster.name);
    const rolesBefore = await rolesOfNodes(before.leaderId);
    const first = brokerToKill(rolesBefore);
    await killAndRestart(first, rolesBefore.get(first)!);
    const quorum = await describeQuorum(cluster.name);
    await killAndRestart(quorum.leaderId, (await rolesOfNodes(quorum.leaderId)).get(quorum.leaderId)!);
    await traffic.stop();
    const after = await describeQuorum(cluster.name);
    expect(after.voters).toEqual([1, 2, 3]);

    // Read back both topics (read_committed) until every acknowledged event and one decision per inference are there.
    const inferences = new Map<string, number>();
    const inferenceIds = new Set<string>();
    const decisions = new Map<string, number>();
    const consumer = kafkaOf().consumer({ groupId: `clu-faults-reader-${randomUUID()}`, readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.inferences.name, topics.attributions.name], fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === topics.inferences.name) {
          const eventId = headerOf(message, CE_HEADERS.id)!;
          inferences.set(eventId, (inferences.get(eventId) ?? 0) + 1);
          inferenceIds.add(message.key!.toString());
        } else {
          const inferenceId = message.key!.toString();
          decisions.set(inferenceId, (decisions.get(inferenceId) ?? 0) + 1);
        }
      },
    });
    const bySource = (source: Source) => acks.filter((ack) => ack.source === source);
    const summary = () => ({
      sent: sent.size,
      acknowledged: { gateway: bySource('gateway').length, producer: bySource('producer').length },
      notAcknowledged: failures,
      inKafka: inferences.size,
      acknowledgedNotInKafka: acks
        .filter((ack) => !inferences.has(ack.eventId))
        .map((ack) => `${ack.eventId} at +${ack.atMs - startedMs} ms`),
      decided: decisions.size,
      longestStallMs: {
        either: longestStallMs(acks),
        gateway: longestStallMs(bySource('gateway')),
        producer: longestStallMs(bySource('producer')),
      },
      quorumLeader: { before: before.leaderId, afterBrokerKill: quorum.leaderId, end: after.leaderId },
      killed,
      exits,
      durationMs: Date.now() - startedMs,
    });
    const sql = new Client({ connectionString: databaseUrl, options: '-c search_path=ledger' });
    await sql.connect();
    const booked = async () =>
      new Set(
        (await sql.query<{ inference_id: string }>('SELECT inference_id FROM inferences')).rows.map(
          (row) => row.inference_id,
        ),
      );
    let ledger: { booked: number; digest: string; cleanDigest: string; records: number; rejected: number } | undefined;
    let members: Record<string, number> | undefined;
    try {
      await eventually(() => expect(acks.filter((ack) => !inferences.has(ack.eventId))).toEqual([]), 180_000, 1_000);
      await eventually(() => expect([...inferenceIds].filter((id) => !decisions.has(id))).toEqual([]), 180_000, 1_000);
      // Every decision booked by the live projector, which ran through both kills.
      await eventually(
        async () => {
          const inLedger = await booked();
          expect([...decisions.keys()].filter((id) => !inLedger.has(id))).toEqual([]);
        },
        180_000,
        1_000,
      );
      // Stragglers (a duplicate written late) would arrive now.
      await sleep(SETTLE_MS);
      await eventually(
        async () => {
          members = await membersOfServiceGroups();
          expect(members).toEqual(oneMemberEach);
        },
        60_000,
        1_000,
      ).catch(() => undefined);
      // The clean run: the same log projected from offset 0 into a fresh schema, up to where the live
      // projector stands, and the two digests compared (what `npm run ledger -- rebuild` does).
      const clean = await withEnv({ ...cluster.env, DATABASE_URL: databaseUrl }, () =>
        rebuild({
          databaseUrl,
          brokers: cluster.env.KAFKA_BROKERS!.split(','),
          clientId: 'clu-faults-rebuild',
          groupId: groups.ledgerProjector,
          topics: [topics.attributions.name, topics.payouts.name, topics.funding.name],
          schema: 'ledger_clean',
          batchSizeMax: 500,
          partitionsConcurrently: 3,
        }),
      );
      ledger = {
        booked: (await booked()).size,
        digest: clean.liveDigest,
        cleanDigest: clean.rebuildDigest,
        records: clean.records,
        rejected: clean.rejected,
      };
    } finally {
      await consumer.disconnect();
      await sql.end();
      process.stdout.write(`faults: ${JSON.stringify({ ...summary(), members, ledger })}\n`);
    }

    expect(bySource('gateway').length).toBeGreaterThan(0);
    expect(bySource('producer').length).toBeGreaterThan(0);
    // Exactly once: every event in Kafka once (acknowledged or not), nothing there that was never sent.
    expect([...inferences.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    expect([...inferences.keys()].filter((eventId) => !sent.has(eventId))).toEqual([]);
    // Every inference decided exactly once, and no decision for an inference that is not in Kafka.
    expect([...decisions.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    expect([...decisions.keys()].filter((inferenceId) => !inferenceIds.has(inferenceId))).toEqual([]);
    // Every decision booked once, and the live ledger is the one a clean projection of the log gives.
    expect(ledger).toEqual(
      expect.objectContaining({ booked: decisions.size, rejected: 0, cleanDigest: ledger.digest }),
    );
    expect(ledger.digest).toMatch(/^[0-9a-f]{64}$/);
    // The kills took down the active controller and the group coordinator of every consumer group.
    const rolesKilled = killed.flatMap((kill) => kill.roles);
    expect(rolesKilled).toEqual(expect.arrayContaining(['active controller', 'group coordinator']));
    // One member per service process in each of its groups.
    expect(members).toEqual(oneMemberEach);
    // No service exited along the way (an exited attribution service was restarted above only so its
    // decisions could still be checked).
    expect(exits).toEqual([]);
  }, 900_000);
});
