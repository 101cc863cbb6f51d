// Proves the Strimzi manifests under deploy/kubernetes say what the topic catalog says, by rendering the
// catalog again and comparing with the committed file, by checking the production durability settings, and by
// validating each KafkaTopic against Strimzi's KafkaTopic CRD from the shared schemas folder.
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { MANIFEST_PATH, renderTopicManifests } from './kafka-topics';
import { KUBERNETES_NAME, strimziManifestCheck } from './strimzi-crd';

describe('the Strimzi KafkaTopic manifests', () => {
  const topics = parseAllDocuments(renderTopicManifests())
    .map((document) => document.toJSON())
    .filter(Boolean);

  it('match the topic catalog (run npm run deploy:render when this fails)', () => {
    expect(fs.readFileSync(MANIFEST_PATH, 'utf8')).toBe(renderTopicManifests());
  });

  it('keep event topics forever with three replicas, two in sync', () => {
    const inferences = topics.find((topic) => topic.spec.topicName === 'tributary.inferences');
    expect(inferences.spec).toMatchObject({
      replicas: 3,
      config: { 'retention.ms': '-1', 'cleanup.policy': 'delete', 'min.insync.replicas': '2' },
    });
    const schemas = topics.find((topic) => topic.spec.topicName === 'tributary.schemas');
    expect(schemas.spec.config['cleanup.policy']).toBe('compact');
    expect(topics.map((topic) => topic.spec.topicName)).toContain('tributary.ledger-projector.dlq');
  });

  describe('against the KafkaTopic CRD (../shared/schemas/strimzi/043-Crd-kafkatopic.yaml)', () => {
    const check = strimziManifestCheck('043-Crd-kafkatopic.yaml');

    it.each(topics.map((topic) => [topic.metadata.name, topic]))('%s is a valid KafkaTopic', (_name, topic) => {
      expect(check(topic)).toEqual([]);
      expect(topic.metadata.name).toMatch(KUBERNETES_NAME);
    });

    it('rejects a misspelt field and an API version the CRD does not serve (the schema is really applied)', () => {
      const topic = structuredClone(topics[0]);
      expect(check({ ...topic, spec: { ...topic.spec, partition: 3 } }).join('\n')).toContain('partition');
      expect(check({ ...topic, apiVersion: 'kafka.strimzi.io/v1alpha1' }).join('\n')).toContain('not served');
      expect(check({ ...topic, spec: { ...topic.spec, partitions: 0 } }).join('\n')).toContain('partitions');
    });
  });
});
