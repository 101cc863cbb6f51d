// Proves the README's claim about the pinned Kafka version inside the suite itself: every kafkajs feature
// Tributary relies on (admin, idempotent and transactional producers with sendOffsets, consumer groups,
// and Kafka's own kafka-consumer-groups reading kafkajs's offsets) works against the broker under test.
import { type Admin } from 'kafkajs';
import { testBrokers, testKafka } from '@tributary/testing';
import { checks, compatContext } from './compat-check';

describe(`kafkajs against the pinned Kafka broker`, () => {
  const kafka = testKafka('compat-spec');
  let admin: Admin;
  let context: ReturnType<typeof compatContext>;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    context = compatContext(testBrokers().join(','), process.env.KAFKA_COMMAND_CONFIG, admin, kafka);
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  // The checks build on each other (create, produce, consume, commit, ...), so they run in order.
  it.each(checks.map(([name, run]) => [name, run] as const))('%s', async (_name, run) => {
    await run(context);
  });
});
