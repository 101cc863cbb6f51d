// Renders the Strimzi Kafka cluster the services run against on Kubernetes: a `Kafka` in KRaft mode with two
// KafkaNodePools (three controllers holding the metadata quorum, three brokers), one TLS listener that takes
// SCRAM-SHA-512 as the local broker does, simple (ACL) authorization, the replication defaults of production
// (three replicas, two in sync) and Strimzi's Kafka Exporter, whose consumer lag the autoscalers read.
// Regenerate with `npm run deploy:render`; a unit spec fails when the committed file is stale.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { OPERATOR_PRINCIPAL, catalogFor } from '@tributary/contracts';
import { KAFKA_VERSION } from '../kafka/src/version';

export const MANIFEST_PATH = path.join(__dirname, 'kafka-cluster.yaml');

/** The Kafka resource's name: Strimzi names every object it makes after it, and each KafkaTopic and KafkaUser points at it. */
export const STRIMZI_CLUSTER = 'tributary';
/** The internal listener the services dial: TLS, SCRAM-SHA-512, on Strimzi's bootstrap Service. */
export const KAFKA_LISTENER = { name: 'tls', port: 9093 } as const;
/** The bootstrap address Strimzi's `<cluster>-kafka-bootstrap` Service answers for that listener. */
export const KAFKA_BOOTSTRAP = `${STRIMZI_CLUSTER}-kafka-bootstrap:${KAFKA_LISTENER.port}`;
/** The Secret Strimzi keeps the cluster CA's certificate in (key `ca.crt`): what clients trust the brokers by. */
export const CLUSTER_CA_SECRET = `${STRIMZI_CLUSTER}-cluster-ca-cert`;

/** Production durability: three replicas of everything, two of them in sync for every acknowledged write. */
export const REPLICATION_FACTOR = 3;
export const MIN_INSYNC_REPLICAS = 2;
const BROKERS = 3;
const CONTROLLERS = 3;

export const STRIMZI_LABELS = {
  'strimzi.io/cluster': STRIMZI_CLUSTER,
  'app.kubernetes.io/part-of': 'tributary',
} as const;

/**
 * The broker settings that are not Strimzi's to choose. Topics come from the KafkaTopic manifests only, so
 * nothing is created by a client asking for it; Kafka's own internal topics (consumer offsets, transaction state)
 * get the same replication as the event topics, or a transactional write could be lost with one broker.
 */
function brokerConfig() {
  return {
    'auto.create.topics.enable': false,
    'default.replication.factor': REPLICATION_FACTOR,
    'min.insync.replicas': MIN_INSYNC_REPLICAS,
    'offsets.topic.replication.factor': REPLICATION_FACTOR,
    'transaction.state.log.replication.factor': REPLICATION_FACTOR,
    'transaction.state.log.min.isr': MIN_INSYNC_REPLICAS,
  };
}

/** An exact-match regular expression over names, for the Kafka Exporter's filters. */
function anyOf(names: readonly string[]): string {
  return `^(${names.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
}

function kafka() {
  const catalog = catalogFor('');
  return {
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'Kafka',
    metadata: {
      name: STRIMZI_CLUSTER,
      labels: { 'app.kubernetes.io/part-of': 'tributary' },
      // Strimzi's v1 API runs only KRaft with node pools; the annotations say so for operators that still read them.
      annotations: { 'strimzi.io/kraft': 'enabled', 'strimzi.io/node-pools': 'enabled' },
    },
    spec: {
      kafka: {
        // The release the local broker and the compose file run (deploy/kafka/src/version.ts).
        version: KAFKA_VERSION,
        listeners: [{ ...KAFKA_LISTENER, type: 'internal', tls: true, authentication: { type: 'scram-sha-512' } }],
        // The operator principal is the super user, as on the local broker: resets and the CLIs run as it.
        authorization: { type: 'simple', superUsers: [OPERATOR_PRINCIPAL] },
        config: brokerConfig(),
      },
      entityOperator: { topicOperator: {}, userOperator: {} },
      // kafka_consumergroup_lag{consumergroup, topic, partition}: what the HorizontalPodAutoscalers scale on.
      kafkaExporter: {
        groupRegex: anyOf(Object.values(catalog.groups)),
        topicRegex: anyOf(Object.values(catalog.topics).map((topic) => topic.name)),
      },
    },
  };
}

type PoolRole = 'controller' | 'broker';

/**
 * One node pool. Each node keeps the KRaft metadata log on its one data volume (`kraftMetadata: shared`), and no two
 * nodes of a pool share a Kubernetes node: losing one machine then costs one replica of each partition and one
 * voter of the quorum, which three replicas with two in sync, and three voters, survive.
 */
function nodePool(name: string, role: PoolRole, replicas: number, size: string, resources: object) {
  // Required, not preferred: a pod of the pool that would land beside another stays Pending instead.
  const oneNodePerHost = {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          topologyKey: 'kubernetes.io/hostname',
          labelSelector: { matchLabels: { 'strimzi.io/cluster': STRIMZI_CLUSTER, 'strimzi.io/pool-name': name } },
        },
      ],
    },
  };
  return {
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaNodePool',
    metadata: { name, labels: STRIMZI_LABELS },
    spec: {
      replicas,
      roles: [role],
      storage: {
        type: 'jbod',
        volumes: [{ id: 0, type: 'persistent-claim', size, deleteClaim: false, kraftMetadata: 'shared' }],
      },
      resources,
      template: { pod: { affinity: oneNodePerHost } },
    },
  };
}

/** The operator's own SCRAM user: a super user (above), so it holds no ACL. */
function operatorUser() {
  return {
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaUser',
    metadata: {
      name: OPERATOR_PRINCIPAL,
      labels: STRIMZI_LABELS,
      annotations: { 'tributary.io/doc': 'The operator: resets and command-line tools. A super user of the cluster.' },
    },
    spec: { authentication: { type: 'scram-sha-512' } },
  };
}

export function clusterResources() {
  return [
    kafka(),
    nodePool('controllers', 'controller', CONTROLLERS, '20Gi', {
      requests: { cpu: '250m', memory: '1Gi' },
      limits: { memory: '1Gi' },
    }),
    nodePool('brokers', 'broker', BROKERS, '100Gi', {
      requests: { cpu: '1', memory: '4Gi' },
      limits: { memory: '4Gi' },
    }),
    operatorUser(),
  ];
}

export function renderClusterManifests(): string {
  const documents = clusterResources().map((resource) => stringify(resource));
  const header = '# Generated by deploy/kubernetes/kafka-cluster.ts: do not edit.\n';
  return `${header}---\n${documents.join('---\n')}`;
}

if (require.main === module) {
  fs.writeFileSync(MANIFEST_PATH, renderClusterManifests());
  process.stdout.write(`wrote ${path.relative(process.cwd(), MANIFEST_PATH)}\n`);
}
