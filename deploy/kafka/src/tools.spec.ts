// Proves every Kafka CLI Tributary's runbook uses maps to its main class for the pinned version, by checking the map and the lookup directly.
import { ProvisionError } from './errors';
import { KAFKA_TOOL_CLASSES, toolMainClass } from './tools';

describe('KAFKA_TOOL_CLASSES', () => {
  it.each([
    ['kafka-topics', 'org.apache.kafka.tools.TopicCommand'],
    ['kafka-consumer-groups', 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'],
    ['kafka-console-consumer', 'org.apache.kafka.tools.consumer.ConsoleConsumer'],
    ['kafka-console-producer', 'org.apache.kafka.tools.ConsoleProducer'],
    ['kafka-transactions', 'org.apache.kafka.tools.TransactionsCommand'],
    ['kafka-storage', 'kafka.tools.StorageTool'],
    ['kafka-e2e-latency', 'org.apache.kafka.tools.EndToEndLatency'],
  ])('maps %s to %s', (tool, mainClass) => {
    expect(toolMainClass(tool)).toBe(mainClass);
  });

  it('accepts the .sh names from the Kafka docs', () => {
    expect(toolMainClass('kafka-topics.sh')).toBe(KAFKA_TOOL_CLASSES['kafka-topics']);
  });

  it('names the known tools when given an unknown one', () => {
    expect(() => toolMainClass('kafka-topic')).toThrow(ProvisionError);
    try {
      toolMainClass('kafka-topic');
    } catch (error) {
      expect((error as ProvisionError).hint).toContain('kafka-topics, kafka-acls, kafka-consumer-groups');
    }
  });

  it('only holds fully qualified class names', () => {
    for (const mainClass of Object.values(KAFKA_TOOL_CLASSES)) expect(mainClass).toMatch(/^([a-z]+\.)+[A-Z]\w+$/);
  });
});
