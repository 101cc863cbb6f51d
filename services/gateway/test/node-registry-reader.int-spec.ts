// Proves the README's recipe for Node analytics readers on the real broker and the real schema registry:
// docs/examples/read-with-registry.js (kafkajs and @kafkajs/confluent-schema-registry, no code of ours)
// decodes every record of every event topic, Confluent-framed with the registry's ids, every value equal
// to what was sent and amounts above 2^53 exact.
import path from 'node:path';
import { testBrokers } from '@tributary/testing';
import {
  ABOVE_2_53,
  expectEverySentRecordDecoded,
  LONG_MAX,
  runProcess,
  stageFramedTopics,
  type ReaderStage,
} from './registry-readers.harness';

const EXAMPLE = path.resolve(__dirname, '../../../docs/examples/read-with-registry.js');

describe('an outside Node reader using the schema registry', () => {
  let stage: ReaderStage;

  beforeAll(async () => {
    stage = await stageFramedTopics('node-reader');
  });

  afterAll(async () => {
    await stage?.stop();
  });

  it('decodes every record of every event topic with kafkajs and @kafkajs/confluent-schema-registry alone', async () => {
    const result = await runProcess(
      process.execPath,
      [EXAMPLE],
      {
        BROKERS: testBrokers().join(','),
        KAFKA_USERNAME: stage.reader,
        KAFKA_PASSWORD: stage.readerPassword,
        KAFKA_CA_FILE: stage.caFile,
        SCHEMA_REGISTRY_URL: stage.registryUrl,
        TOPICS: stage.eventTopics.join(','),
        GROUP_ID: `${stage.prefix}analytics.${stage.reader}.node`,
        MAX_MESSAGES: String(stage.sent.size),
      },
      90_000,
    );
    const printed = result.stdout.trim().split('\n').filter(Boolean).length;
    expect({ code: result.code, stderr: result.stderr, timedOut: result.timedOut, printed }).toEqual({
      code: 0,
      stderr: '',
      timedOut: false,
      printed: stage.sent.size,
    });
    const lines = expectEverySentRecordDecoded(stage, result.stdout);
    expect(new Set(lines.map((line) => line.topic))).toEqual(new Set(stage.eventTopics));
    const amounts = lines.flatMap((line) => [line.event.feeMinor, line.event.amountMinor]).filter(Boolean);
    expect(amounts).toEqual(expect.arrayContaining([LONG_MAX.toString(), ABOVE_2_53.toString()]));
  });
});
