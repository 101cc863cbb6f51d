// Proves the rendered server.properties and log4j files describe a one-node KRaft broker on 127.0.0.1, by parsing the rendered text.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ephemeralPortsOf } from './cluster';
import {
  brokerLayout,
  clusterLayout,
  clusterQuorum,
  renderBrokerLog4j,
  renderServerProperties,
  renderToolsLog4j,
} from './config';

function parseProperties(text: string): Map<string, string> {
  const entries = text
    .trim()
    .split('\n')
    .map((line) => {
      const separatorIndex = line.indexOf('=');
      return [line.slice(0, separatorIndex), line.slice(separatorIndex + 1)] as [string, string];
    });
  return new Map(entries);
}

describe('renderServerProperties', () => {
  const properties = parseProperties(renderServerProperties(brokerLayout(19092, '/data/dev')));

  it('runs one combined broker+controller with the controller at port + 1000', () => {
    expect(properties.get('process.roles')).toBe('broker,controller');
    expect(properties.get('node.id')).toBe('1');
    expect(properties.get('controller.quorum.voters')).toBe('1@127.0.0.1:20092');
    expect(properties.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:20092');
    expect(properties.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(properties.get('controller.listener.names')).toBe('CONTROLLER');
  });

  it('sets every replication factor and ISR minimum one node can satisfy', () => {
    for (const key of [
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
      'min.insync.replicas',
      'default.replication.factor',
    ]) {
      expect([key, properties.get(key)]).toEqual([key, '1']);
    }
  });

  it('keeps topics explicit and group starts fast', () => {
    expect(properties.get('auto.create.topics.enable')).toBe('false');
    expect(properties.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(properties.get('num.partitions')).toBe('1');
  });

  it('stores data under the data dir and writes each key once', () => {
    expect(properties.get('log.dirs')).toBe('/data/dev/kraft-logs');
    const keys = renderServerProperties(brokerLayout(9092, '/d'))
      .trim()
      .split('\n')
      .map((line) => line.split('=')[0]);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('log4j configs', () => {
  it('sends broker logs to broker.log in the data dir and nothing to the console', () => {
    const text = renderBrokerLog4j('/data/dev');
    expect(text).toContain('appender.file.fileName = /data/dev/broker.log');
    expect(text).not.toMatch(/type = Console/);
  });

  it('sends tool logs to stderr so stdout stays parseable', () => {
    expect(renderToolsLog4j()).toContain('appender.stderr.target = SYSTEM_ERR');
  });
});

describe('renderServerProperties for the secured broker', () => {
  const security = {
    caCertificate: '/d/tls/ca.crt',
    brokerKeystore: '/d/tls/broker.p12',
    keystorePassword: 'k',
    superUsers: ['operator', 'tributary-broker'],
  };
  const properties = parseProperties(renderServerProperties(brokerLayout(19092, '/data/dev'), security));

  it('offers clients SASL_SSL with SCRAM-SHA-512 only, and no plaintext listener at all', () => {
    expect(properties.get('listeners')).toBe(
      'CLIENT://127.0.0.1:19092,INTERNAL://127.0.0.1:21092,CONTROLLER://127.0.0.1:20092',
    );
    expect(properties.get('listener.security.protocol.map')).toBe('CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL');
    expect(properties.get('listener.name.client.sasl.enabled.mechanisms')).toBe('SCRAM-SHA-512');
    expect([...properties.values()].join('\n')).not.toContain('PLAINTEXT');
  });

  it('keeps the controller and inter-broker listeners to holders of a certificate the CA signed', () => {
    expect(properties.get('listener.name.controller.ssl.client.auth')).toBe('required');
    expect(properties.get('listener.name.internal.ssl.client.auth')).toBe('required');
    expect(properties.get('inter.broker.listener.name')).toBe('INTERNAL');
    expect(properties.get('advertised.listeners')).not.toContain('CONTROLLER');
  });

  it('denies what no ACL allows, and names only the operator and the brokers as super users', () => {
    expect(properties.get('authorizer.class.name')).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(properties.get('allow.everyone.if.no.acl.found')).toBe('false');
    expect(properties.get('super.users')).toBe('User:operator;User:tributary-broker');
  });
});

describe('renderServerProperties for a node of a three-node cluster', () => {
  const nodes = clusterLayout(29092, 3, '/data/cluster');
  const security = {
    caCertificate: '/d/tls/ca.crt',
    brokerKeystore: '/d/tls/broker.p12',
    keystorePassword: 'k',
    superUsers: ['operator', 'tributary-broker'],
  };
  const properties = parseProperties(renderServerProperties(nodes[1]!, security, clusterQuorum(nodes, 2)));

  it('lays node k out where a single broker on port + k - 1 would be, with its own data dir', () => {
    expect(nodes.map((node) => [node.nodeId, node.port, node.controllerPort, node.internalPort, node.dataDir])).toEqual(
      [
        [1, 29092, 30092, 31092, '/data/cluster/node-1'],
        [2, 29093, 30093, 31093, '/data/cluster/node-2'],
        [3, 29094, 30094, 31094, '/data/cluster/node-3'],
      ],
    );
  });

  it('makes every node a combined broker and controller and a voter of one quorum of three', () => {
    expect(properties.get('process.roles')).toBe('broker,controller');
    expect(properties.get('node.id')).toBe('2');
    expect(properties.get('controller.quorum.voters')).toBe('1@127.0.0.1:30092,2@127.0.0.1:30093,3@127.0.0.1:30094');
    expect(properties.get('listeners')).toBe(
      'CLIENT://127.0.0.1:29093,INTERNAL://127.0.0.1:31093,CONTROLLER://127.0.0.1:30093',
    );
    expect(properties.get('log.dirs')).toBe('/data/cluster/node-2/kraft-logs');
  });

  it('replicates everything three times and requires two in sync', () => {
    for (const key of [
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'default.replication.factor',
      'share.coordinator.state.topic.replication.factor',
    ]) {
      expect([key, properties.get(key)]).toEqual([key, '3']);
    }
    for (const key of [
      'min.insync.replicas',
      'transaction.state.log.min.isr',
      'share.coordinator.state.topic.min.isr',
    ]) {
      expect([key, properties.get(key)]).toEqual([key, '2']);
    }
  });

  it('is secured like the single broker', () => {
    const single = parseProperties(renderServerProperties(brokerLayout(29093, '/data/cluster/node-2'), security));
    for (const key of [
      'listener.security.protocol.map',
      'listener.name.controller.ssl.client.auth',
      'listener.name.internal.ssl.client.auth',
      'super.users',
      'allow.everyone.if.no.acl.found',
      'authorizer.class.name',
    ]) {
      expect([key, properties.get(key)]).toEqual([key, single.get(key)]);
    }
  });
});

describe('ephemeralPortsOf', () => {
  const rangeFile = path.join(os.tmpdir(), `port-range-${process.pid}`);
  beforeAll(() => fs.writeFileSync(rangeFile, '32768\t60999\n'));
  afterAll(() => fs.rmSync(rangeFile, { force: true }));

  it('names the cluster ports the kernel may give to outgoing connections', () => {
    expect(ephemeralPortsOf([19300, 20300, 21300], rangeFile)).toEqual([]);
    expect(ephemeralPortsOf([39520, 40520, 41520, 31000], rangeFile)).toEqual([39520, 40520, 41520]);
  });

  it('names none where the range is unknown', () => {
    expect(ephemeralPortsOf([39520], '/nonexistent/range')).toEqual([]);
  });
});
