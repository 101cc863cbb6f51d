// Proves the Strimzi manifests under deploy/kubernetes say what the topic catalog says, by rendering the
// catalog again and comparing with the committed file, and by checking the production durability settings.
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { MANIFEST_PATH, renderTopicManifests } from './kafka-topics';

describe('the Strimzi KafkaTopic manifests', () => {
  it('match the topic catalog (run npm run deploy:topics when this fails)', () => {
    expect(fs.readFileSync(MANIFEST_PATH, 'utf8')).toBe(renderTopicManifests());
  });

  it('keep event topics forever with three replicas, two in sync', () => {
    const topics = parseAllDocuments(renderTopicManifests()).map((document) => document.toJSON()).filter(Boolean);
    const inferences = topics.find((topic) => topic.spec.topicName === 'tributary.inferences');
    expect(inferences.spec).toMatchObject({ replicas: 3, config: { 'retention.ms': '-1', 'cleanup.policy': 'delete', 'min.insync.replicas': '2' } });
    expect(topics.find((topic) => topic.spec.topicName === 'tributary.schemas').spec.config['cleanup.policy']).toBe('compact');
    expect(topics.map((topic) => topic.spec.topicName)).toContain('tributary.ledger-projector.dlq');
  });
});
