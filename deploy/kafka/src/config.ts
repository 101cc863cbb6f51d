import * as path from 'node:path';

// Pure renderers for the files a broker (a single node, or one node of a local cluster) needs. Kept free of I/O so unit tests can read
// exactly what the broker will read.

export interface BrokerLayout {
  port: number;
  controllerPort: number;
  /** The brokers' own listener (replication, inter-broker requests): mutual TLS, never a client's. */
  internalPort: number;
  dataDir: string;
}

/** What a secured broker needs; undefined runs the plaintext broker, only when asked for by name. */
export interface BrokerSecurity {
  readonly caCertificate: string;
  readonly brokerKeystore: string;
  readonly keystorePassword: string;
  /** Principals that bypass ACLs: the operator, and the brokers' own certificate identity. */
  readonly superUsers: readonly string[];
}

// The controller and the internal listener sit at fixed offsets from the client port, so `--port`
// alone picks a free set.
export const CONTROLLER_PORT_OFFSET = 1000;
export const INTERNAL_PORT_OFFSET = 2000;
export const PORT_MIN = 1024;
export const PORT_MAX = 65535 - INTERNAL_PORT_OFFSET;

export function brokerLayout(port: number, dataDir: string): BrokerLayout {
  return { port, controllerPort: port + CONTROLLER_PORT_OFFSET, internalPort: port + INTERNAL_PORT_OFFSET, dataDir };
}

/** The node counts `start --brokers` takes: a KRaft quorum wants an odd number of voters. */
export const CLUSTER_SIZES = [1, 3, 5] as const;

/**
 * The nodes of a local cluster: node k (1..count) listens where a single broker started with
 * `--port port + k - 1` would (client port + k - 1, controller + 1000, inter-broker + 2000), and keeps
 * its own data under `<dataDir>/node-<k>`. The TLS material and credentials stay in `<dataDir>`,
 * shared by every node, since they belong to the cluster, not to one node.
 */
export function clusterLayout(port: number, count: number, dataDir: string): Array<BrokerLayout & { nodeId: number }> {
  return Array.from({ length: count }, (_, index) => ({
    nodeId: index + 1,
    ...brokerLayout(port + index, nodeDataDir(dataDir, index + 1)),
  }));
}

export function nodeDataDir(clusterDataDir: string, nodeId: number): string {
  return path.join(clusterDataDir, `node-${nodeId}`);
}

export function clusterQuorum(nodes: readonly (BrokerLayout & { nodeId: number })[], nodeId: number): QuorumPlace {
  return { nodeId, voters: nodes.map((node) => ({ nodeId: node.nodeId, controllerPort: node.controllerPort })) };
}

export function logDirsOf(dataDir: string): string {
  return path.join(dataDir, 'kraft-logs');
}

export function brokerLogFile(dataDir: string): string {
  return path.join(dataDir, 'broker.log');
}

type Properties = Array<[string, string | number | boolean]>;

/**
 * Where one node sits in its KRaft quorum. A single broker is node 1 of a one-voter quorum; a local
 * cluster's nodes are all voters (combined broker+controller), so the voters list every node.
 */
export interface QuorumPlace {
  readonly nodeId: number;
  readonly voters: readonly { readonly nodeId: number; readonly controllerPort: number }[];
}

export function singleNodeQuorum(layout: BrokerLayout): QuorumPlace {
  return { nodeId: 1, voters: [{ nodeId: 1, controllerPort: layout.controllerPort }] };
}

/** The replication every topic gets by default: 3 where three nodes can hold it, else what there is. */
export function replicationOf(nodeCount: number): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = Math.min(3, nodeCount);
  // With acks=all, 2 of 3 in sync survives one lost node without accepting an unreplicated write.
  return { replicationFactor, minInsyncReplicas: Math.min(2, replicationFactor) };
}

export function renderServerProperties(
  layout: BrokerLayout,
  security?: BrokerSecurity,
  quorum: QuorumPlace = singleNodeQuorum(layout),
): string {
  const { replicationFactor, minInsyncReplicas } = replicationOf(quorum.voters.length);
  const properties: Properties = [
    // Every node is both a KRaft controller and a broker; a static quorum of voters needs no
    // `--standalone` or `add-controller` dance and means the same on Kafka 3.9 and 4.x.
    ['process.roles', 'broker,controller'],
    ['node.id', quorum.nodeId],
    [
      'controller.quorum.voters',
      quorum.voters.map((voter) => `${voter.nodeId}@127.0.0.1:${voter.controllerPort}`).join(','),
    ],
    ...(security ? securedListeners(layout, security) : plaintextListeners(layout)),
    ['log.dirs', logDirsOf(layout.dataDir)],
    // Internal topics default to replication factor 3, which one node can never satisfy.
    ['offsets.topic.replication.factor', replicationFactor],
    ['transaction.state.log.replication.factor', replicationFactor],
    ['transaction.state.log.min.isr', minInsyncReplicas],
    ['share.coordinator.state.topic.replication.factor', replicationFactor],
    ['share.coordinator.state.topic.min.isr', minInsyncReplicas],
    ['min.insync.replicas', minInsyncReplicas],
    ['default.replication.factor', replicationFactor],
    ['num.partitions', 1],
    // Creating 50 partitions per internal topic costs seconds on a small machine and buys nothing
    // on a local broker or cluster.
    ['offsets.topic.num.partitions', 1],
    ['transaction.state.log.num.partitions', 1],
    // Topics come from the catalog, never from a typo in a producer.
    ['auto.create.topics.enable', false],
    // Tests join one consumer at a time; the default 3 s delay would slow every group start.
    ['group.initial.rebalance.delay.ms', 0],
  ];
  return properties.map(([key, value]) => `${key}=${value}`).join('\n') + '\n';
}

function plaintextListeners({ port, controllerPort }: BrokerLayout): Properties {
  return [
    ['listeners', `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`],
    ['advertised.listeners', `PLAINTEXT://127.0.0.1:${port}`],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['listener.security.protocol.map', 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'],
  ];
}

/**
 * Clients meet SASL/SCRAM-SHA-512 over TLS on the client port. The controller and inter-broker
 * listeners demand a client certificate signed by the broker's own CA, which only brokers hold, so no
 * client can reach them. Every request is authorized by ACLs; none passes for lack of one.
 */
function securedListeners({ port, controllerPort, internalPort }: BrokerLayout, security: BrokerSecurity): Properties {
  const scramLogin = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return [
    [
      'listeners',
      `CLIENT://127.0.0.1:${port},INTERNAL://127.0.0.1:${internalPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    ],
    ['advertised.listeners', `CLIENT://127.0.0.1:${port},INTERNAL://127.0.0.1:${internalPort}`],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'INTERNAL'],
    ['listener.security.protocol.map', 'CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL'],
    ['listener.name.client.sasl.enabled.mechanisms', 'SCRAM-SHA-512'],
    ['listener.name.client.scram-sha-512.sasl.jaas.config', scramLogin],
    ['listener.name.internal.ssl.client.auth', 'required'],
    ['listener.name.controller.ssl.client.auth', 'required'],
    ['ssl.keystore.type', 'PKCS12'],
    ['ssl.keystore.location', security.brokerKeystore],
    ['ssl.keystore.password', security.keystorePassword],
    ['ssl.truststore.type', 'PEM'],
    ['ssl.truststore.location', security.caCertificate],
    // A certificate's principal is its CN (CN=tributary-broker -> User:tributary-broker).
    ['ssl.principal.mapping.rules', 'RULE:^CN=([a-z0-9.-]+)$/$1/,DEFAULT'],
    ['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'],
    ['allow.everyone.if.no.acl.found', false],
    ['super.users', security.superUsers.map((name) => `User:${name}`).join(';')],
  ];
}

/** A Java client config (`--command-config` of Kafka's tools) for a principal on the secured client listener. */
export function renderClientProperties(username: string, password: string, caCertificate: string): string {
  const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return [
    'security.protocol=SASL_SSL',
    'sasl.mechanism=SCRAM-SHA-512',
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${escape(username)}" password="${escape(password)}";`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${caCertificate}`,
    '',
  ].join('\n');
}

/** log4j2 for the broker: everything to <dataDir>/broker.log, nothing to stdout. */
export function renderBrokerLog4j(dataDir: string): string {
  return [
    'status = warn',
    'name = tributary-kafka-broker',
    'appender.file.type = File',
    'appender.file.name = BROKER_LOG',
    `appender.file.fileName = ${brokerLogFile(dataDir)}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.file.ref = BROKER_LOG',
    // Per-request state changes drown the interesting lines at INFO.
    'logger.stateChange.name = state.change.logger',
    'logger.stateChange.level = WARN',
    '',
  ].join('\n');
}

/** log4j2 for the CLI tools: warnings only, to stderr, so stdout stays parseable. */
export function renderToolsLog4j(): string {
  return [
    'status = warn',
    'name = tributary-kafka-tools',
    'appender.stderr.type = Console',
    'appender.stderr.name = STDERR',
    'appender.stderr.target = SYSTEM_ERR',
    'appender.stderr.layout.type = PatternLayout',
    'appender.stderr.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = WARN',
    'rootLogger.appenderRef.stderr.ref = STDERR',
    '',
  ].join('\n');
}

// 512 MiB is plenty for a development broker and leaves room on a 2-core CI box.
export const BROKER_JVM_ARGS = ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true'];
export const TOOLS_JVM_ARGS = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];
