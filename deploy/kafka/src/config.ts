import * as path from 'node:path';

// Pure renderers for the files a single-node broker needs. Kept free of I/O so unit tests can read
// exactly what the broker will read.

export interface BrokerLayout {
  port: number;
  controllerPort: number;
  dataDir: string;
}

// The controller listens at a fixed offset from the client port, so `--port` alone picks a free pair.
export const CONTROLLER_PORT_OFFSET = 1000;
export const PORT_MIN = 1024;
export const PORT_MAX = 65535 - CONTROLLER_PORT_OFFSET;

export function brokerLayout(port: number, dataDir: string): BrokerLayout {
  return { port, controllerPort: port + CONTROLLER_PORT_OFFSET, dataDir };
}

export function logDirsOf(dataDir: string): string {
  return path.join(dataDir, 'kraft-logs');
}

export function brokerLogFile(dataDir: string): string {
  return path.join(dataDir, 'broker.log');
}

export function renderServerProperties(layout: BrokerLayout): string {
  const { port, controllerPort, dataDir } = layout;
  const properties: Array<[string, string | number | boolean]> = [
    // One JVM is both the KRaft controller and the broker; a static one-voter quorum needs no
    // `--standalone` dance and means the same on Kafka 3.9 and 4.x.
    ['process.roles', 'broker,controller'],
    ['node.id', 1],
    ['controller.quorum.voters', `1@127.0.0.1:${controllerPort}`],
    ['listeners', `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`],
    ['advertised.listeners', `PLAINTEXT://127.0.0.1:${port}`],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['listener.security.protocol.map', 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'],
    ['log.dirs', logDirsOf(dataDir)],
    // Internal topics default to replication factor 3, which one node can never satisfy.
    ['offsets.topic.replication.factor', 1],
    ['transaction.state.log.replication.factor', 1],
    ['transaction.state.log.min.isr', 1],
    ['share.coordinator.state.topic.replication.factor', 1],
    ['share.coordinator.state.topic.min.isr', 1],
    ['min.insync.replicas', 1],
    ['default.replication.factor', 1],
    ['num.partitions', 1],
    // Creating 50 partitions per internal topic costs seconds on a small machine and buys nothing
    // on one node.
    ['offsets.topic.num.partitions', 1],
    ['transaction.state.log.num.partitions', 1],
    // Topics come from the catalog, never from a typo in a producer.
    ['auto.create.topics.enable', false],
    // Tests join one consumer at a time; the default 3 s delay would slow every group start.
    ['group.initial.rebalance.delay.ms', 0],
  ];
  return properties.map(([key, value]) => `${key}=${value}`).join('\n') + '\n';
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
