// Renders the topic catalog (libs/contracts/src/topics.ts) as Strimzi KafkaTopic manifests, so a cluster on
// Kubernetes gets exactly the topics and configs the services create for themselves at start-up.
// Regenerate with `npm run deploy:render` (which renders every manifest of this folder); a unit spec fails when the
// committed file is stale.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { catalogFor, topicCatalog } from '@tributary/contracts';
import { topicConfig } from '@tributary/messaging';
import { REPLICATION_FACTOR, STRIMZI_CLUSTER } from './kafka-cluster';

export const MANIFEST_PATH = path.join(__dirname, 'kafka-topics.yaml');

export function renderTopicManifests(): string {
  const documents = topicCatalog(catalogFor('')).map((spec) => {
    const config = topicConfig(spec, REPLICATION_FACTOR);
    return stringify({
      // Strimzi's v1 API: the CRDs this is checked against (kafka-topics.spec.ts) serve no other version.
      apiVersion: 'kafka.strimzi.io/v1',
      kind: 'KafkaTopic',
      metadata: {
        // Kubernetes names allow no dots or underscores; the Kafka topic keeps its real name in spec.topicName.
        name: spec.name.replace(/[._]/g, '-'),
        labels: { 'strimzi.io/cluster': STRIMZI_CLUSTER, 'app.kubernetes.io/part-of': 'tributary' },
        annotations: { 'tributary.io/doc': spec.doc, 'tributary.io/key': spec.keyField },
      },
      spec: {
        topicName: spec.name,
        partitions: spec.partitions,
        replicas: REPLICATION_FACTOR,
        config: Object.fromEntries((config.configEntries ?? []).map((entry) => [entry.name, entry.value])),
      },
    });
  });
  return `# Generated from libs/contracts/src/topics.ts by deploy/kubernetes/kafka-topics.ts: do not edit.\n---\n${documents.join('---\n')}`;
}

if (require.main === module) {
  fs.writeFileSync(MANIFEST_PATH, renderTopicManifests());
  process.stdout.write(`wrote ${path.relative(process.cwd(), MANIFEST_PATH)}\n`);
}
