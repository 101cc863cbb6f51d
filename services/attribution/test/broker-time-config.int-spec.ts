// The join rule as-of-append-time/v2 holds only where the broker stamps the records: on a topic left at
// message.timestamp.type=CreateTime (one created before the rule, never altered) a producer's own clock
// would place its table records before or after an inference. Attack test on a real broker: with the
// contributions topic on producer time, the attribution service, running as its own principal, refuses
// to start and names the topic and the fix; once the operator alters the topic, the same service starts,
// so its ACLs let it read the topics' configuration.
import { ConfigResourceTypes } from 'kafkajs';
import { catalogFor, deadLetterTopicSpec, topicCatalog } from '@tributary/contracts';
import { applyServiceAcls } from '@tributary/kafka-provisioner';
import { ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  eventually,
  principalEnv,
  startServiceProcess,
  testKafkaName,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';

jest.setTimeout(240_000);

const MAIN = 'services/attribution/src/main.ts';

const setTimestampType = (topic: string, value: 'CreateTime' | 'LogAppendTime') =>
  withAdmin((admin) =>
    admin.alterConfigs({
      validateOnly: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'message.timestamp.type', value }] },
      ],
    }),
  );

describe('the attribution service on a topic left on producer time', () => {
  const prefix = `${uniqueName('creattime')}.`;
  const catalog = catalogFor(prefix);
  let database: TestDatabase;
  let instance: ServiceProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('attribution_create_time');
    await withAdmin((admin) =>
      ensureTopics(admin, [...topicCatalog(catalog), deadLetterTopicSpec(`${catalog.groups.attribution}.tables`)], 1),
    );
    await applyServiceAcls(testKafkaName(), prefix);
  });

  afterAll(async () => {
    await instance?.stop();
    await database?.drop();
  });

  const start = (name: string) =>
    startServiceProcess(
      MAIN,
      {
        ...principalEnv('attribution'),
        TRIBUTARY_TOPIC_PREFIX: prefix,
        DATABASE_URL: database.url,
        ATTRIBUTION_HTTP_PORT: '0',
      },
      name,
    );

  it('refuses to start, naming the topic and the fix; starts once the operator altered it', async () => {
    await setTimestampType(catalog.topics.contributions.name, 'CreateTime');
    const refused = start('attribution-create-time');
    expect(await refused.exitCode()).toBe(1);
    expect(refused.output()).toContain(`${catalog.topics.contributions.name} (CreateTime)`);
    expect(refused.output()).toContain('--add-config message.timestamp.type=LogAppendTime');
    // The others are on broker time: only the one left behind is named.
    expect(refused.output()).not.toContain(`${catalog.topics.inferences.name} (`);
    expect(refused.output()).not.toContain('attribution ready');

    await setTimestampType(catalog.topics.contributions.name, 'LogAppendTime');
    instance = start('attribution-broker-time');
    await eventually(() => expect(instance!.output()).toContain('attribution ready'), 90_000);
  });
});
