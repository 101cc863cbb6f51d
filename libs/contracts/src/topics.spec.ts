// Proves the topics the attribution service joins are stamped with the broker's append time (the join
// rule as-of-append-time/v2 compares those times) and no other topic's timestamps change.
import { catalogFor, topicCatalog } from './topics';

describe('the topic catalog', () => {
  const catalog = catalogFor('');
  const { topics } = catalog;
  const joined = [topics.datanets, topics.contributions, topics.models, topics.inferences].map((topic) => topic.name);

  it('stamps the table topics and the inference topic with LogAppendTime', () => {
    for (const name of joined)
      expect(topicCatalog(catalog).find((spec) => spec.name === name)?.config['message.timestamp.type']).toBe(
        'LogAppendTime',
      );
  });

  it("leaves every other topic's timestamp type to the broker's default", () => {
    for (const spec of topicCatalog(catalog).filter((candidate) => !joined.includes(candidate.name)))
      expect(spec.config['message.timestamp.type']).toBeUndefined();
  });
});
