// Proves the Strimzi cluster manifest describes the production cluster the README promises (KRaft with a controller
// quorum of three, three brokers, SCRAM-SHA-512 over TLS, ACLs, three replicas with two in sync) by reading those
// settings off the rendering, and that Strimzi would accept it, by validating each resource against its CRD.
import { parseAllDocuments } from 'yaml';
import { catalogFor, topicCatalog } from '@tributary/contracts';
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR, STRIMZI_CLUSTER, renderClusterManifests } from './kafka-cluster';
import { renderTopicManifests } from './kafka-topics';
import { KUBERNETES_NAME, strimziManifestCheck } from './strimzi-crd';

interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, any>;
}

const resources = parseAllDocuments(renderClusterManifests())
  .map((document) => document.toJSON() as Resource | null)
  .filter((resource): resource is Resource => resource !== null);
const kafka = resources.find((resource) => resource.kind === 'Kafka')!;
const pools = resources.filter((resource) => resource.kind === 'KafkaNodePool');
const poolWith = (role: string) => pools.filter((pool) => (pool.spec.roles as string[]).includes(role));

describe('the Strimzi Kafka cluster', () => {
  describe('in KRaft mode with node pools', () => {
    it('is annotated for KRaft and node pools, and every pool belongs to it', () => {
      expect(kafka.metadata.name).toBe(STRIMZI_CLUSTER);
      expect(kafka.metadata.annotations).toMatchObject({
        'strimzi.io/kraft': 'enabled',
        'strimzi.io/node-pools': 'enabled',
      });
      for (const pool of pools) expect(pool.metadata.labels?.['strimzi.io/cluster']).toBe(STRIMZI_CLUSTER);
    });

    it('runs a quorum of three controllers and three brokers, on persistent volumes holding the metadata log', () => {
      const replicas = (role: string) => poolWith(role).reduce((sum, pool) => sum + (pool.spec.replicas as number), 0);
      expect(replicas('controller')).toBe(3);
      expect(replicas('broker')).toBe(3);
      for (const pool of pools) {
        expect(pool.spec.storage.volumes).toContainEqual(
          expect.objectContaining({ type: 'persistent-claim', deleteClaim: false, kraftMetadata: 'shared' }),
        );
      }
    });

    it('spreads each pool over the Kubernetes nodes, so one machine holds one broker and one controller at most', () => {
      for (const pool of pools) {
        expect(
          pool.spec.template.pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution,
        ).toContainEqual({
          topologyKey: 'kubernetes.io/hostname',
          labelSelector: {
            matchLabels: { 'strimzi.io/cluster': STRIMZI_CLUSTER, 'strimzi.io/pool-name': pool.metadata.name },
          },
        });
      }
    });
  });

  describe('security', () => {
    it('authenticates every listener (SCRAM-SHA-512 or TLS) over TLS, and authorizes by ACL', () => {
      for (const listener of kafka.spec.kafka.listeners) {
        expect(listener.tls).toBe(true);
        expect(['scram-sha-512', 'tls']).toContain(listener.authentication?.type);
      }
      expect(kafka.spec.kafka.authorization.type).toBe('simple');
    });
  });

  describe('durability', () => {
    it('defaults to three replicas with two in sync, Kafka internal topics included, and creates no topic on demand', () => {
      expect(kafka.spec.kafka.config).toMatchObject({
        'default.replication.factor': REPLICATION_FACTOR,
        'min.insync.replicas': MIN_INSYNC_REPLICAS,
        'offsets.topic.replication.factor': REPLICATION_FACTOR,
        'transaction.state.log.replication.factor': REPLICATION_FACTOR,
        'transaction.state.log.min.isr': MIN_INSYNC_REPLICAS,
        'auto.create.topics.enable': false,
      });
    });

    it('has a broker for every replica the KafkaTopics ask for', () => {
      const brokers = poolWith('broker').reduce((sum, pool) => sum + (pool.spec.replicas as number), 0);
      const topics = parseAllDocuments(renderTopicManifests())
        .map((document) => document.toJSON())
        .filter(Boolean);
      for (const topic of topics) expect(topic.spec.replicas).toBeLessThanOrEqual(brokers);
    });
  });

  describe('the Kafka Exporter the autoscalers read', () => {
    it('reports the lag of every consumer group of the catalog, on every topic of the catalog, and nothing else', () => {
      const catalog = catalogFor('');
      const groups = new RegExp(kafka.spec.kafkaExporter.groupRegex);
      const topics = new RegExp(kafka.spec.kafkaExporter.topicRegex);
      for (const group of Object.values(catalog.groups)) expect(group).toMatch(groups);
      for (const topic of Object.values(catalog.topics)) expect(topic.name).toMatch(topics);
      expect('tributary.attributionXtables').not.toMatch(groups);
      expect(topicCatalog(catalog).filter((spec) => spec.role === 'dead-letter')[0]?.name).not.toMatch(topics);
    });
  });

  describe('against the Strimzi CRDs (../shared/schemas/strimzi)', () => {
    const checks: Record<string, ReturnType<typeof strimziManifestCheck>> = {
      Kafka: strimziManifestCheck('040-Crd-kafka.yaml'),
      KafkaNodePool: strimziManifestCheck('045-Crd-kafkanodepool.yaml'),
      KafkaUser: strimziManifestCheck('044-Crd-kafkauser.yaml'),
    };

    it.each(resources.map((resource) => [`${resource.kind} ${resource.metadata.name}`, resource]))(
      '%s is valid',
      (_name, resource) => {
        expect(checks[resource.kind]?.(resource)).toEqual([]);
        expect(resource.metadata.name).toMatch(KUBERNETES_NAME);
      },
    );

    it('rejects an unknown authentication, a pool role and a misspelt field (the schemas are really applied)', () => {
      const [listener] = kafka.spec.kafka.listeners;
      const weakListener = { ...listener, authentication: { type: 'scram-sha-256' } };
      const weak = { ...kafka, spec: { ...kafka.spec, kafka: { ...kafka.spec.kafka, listeners: [weakListener] } } };
      expect(checks.Kafka!(weak).join('\n')).toContain('authentication/type');
      const [pool] = pools;
      expect(checks.KafkaNodePool!({ ...pool, spec: { ...pool!.spec, roles: ['leader'] } }).join('\n')).toContain(
        'roles',
      );
      expect(checks.KafkaNodePool!({ ...pool, spec: { ...pool!.spec, replica: 3 } }).join('\n')).toContain('replica');
    });
  });
});
