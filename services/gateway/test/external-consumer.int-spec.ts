// Proves the README's "reading a topic from outside this repository" on the real broker: the example
// consumer in docs/examples (kafkajs, avsc and the gateway's schema catalog, no code of ours) decodes
// records our producer client published, raw and Confluent-framed, amounts above 2^53 exact.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { addAnalytics, revokePrincipal } from '@tributary/kafka-provisioner';
import path from 'node:path';
import { catalogFor, topicCatalog, type SchemaIdBook } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { TributaryProducer } from '@tributary/producer';
import {
  eventually,
  fixedSchemaIds,
  startServiceProcess,
  testBrokers,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  testClientOptions,
  principalEnv,
  testKafkaName,
} from '@tributary/testing';
import { SAMPLE_EVENTS } from '../../../libs/contracts/src/schemas/sample-events.fixture';

const EXAMPLE = path.resolve(__dirname, '../../../docs/examples/read-topic.js');

function runExample(
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [EXAMPLE], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a consumer outside this repository', () => {
  const prefix = `${uniqueName('x')}.`;
  let gateway: ServiceProcess;
  let catalogUrl: string;
  // The example reads as an analytics principal, as an analytics team outside this repository would.
  const reader = `reader-${randomUUID().slice(0, 6)}`;
  let readerPassword: string;

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalogFor(prefix)), 1));
    readerPassword = (await addAnalytics(testKafkaName(), reader, prefix)).password.reveal();
    gateway = startServiceProcess(
      'services/gateway/src/main.ts',
      { KAFKA_BROKERS: testBrokers().join(','), TRIBUTARY_TOPIC_PREFIX: prefix, GATEWAY_HTTP_PORT: '0' },
      'gateway',
    );
    catalogUrl = await eventually(() => {
      const match = /gateway ready at (http:\/\/[^ ]+) /.exec(gateway.output());
      expect(match).not.toBeNull();
      return match![1]!;
    }, 60_000);
  });

  afterAll(async () => {
    await gateway?.stop();
    await revokePrincipal(testKafkaName(), reader).catch(() => undefined);
  });

  it('decodes what our producer published, raw and Confluent-framed, using only the schema catalog', async () => {
    // One record raw (as before the schema registry), one framed (a zero byte and a registry id first).
    const connect = (schemaIds: SchemaIdBook | null) =>
      TributaryProducer.connect({
        ...testClientOptions('outside-spec'),
        source: 'urn:test',
        topicPrefix: prefix,
        schemaIds,
      });
    const huge = { ...SAMPLE_EVENTS.InferenceCompleted, inferenceId: 'inference-huge', feeMinor: 2n ** 60n + 7n };
    for (const [schemaIds, event] of [
      [null, SAMPLE_EVENTS.InferenceCompleted],
      [fixedSchemaIds(), huge],
    ] as const) {
      const producer = await connect(schemaIds);
      try {
        await producer.publish('InferenceCompleted', event);
      } finally {
        await producer.disconnect();
      }
    }
    const { KAFKA_CA_FILE } = principalEnv('operator');
    const result = await runExample(
      {
        BROKERS: testBrokers().join(','),
        KAFKA_USERNAME: reader,
        KAFKA_PASSWORD: readerPassword,
        KAFKA_CA_FILE: KAFKA_CA_FILE!,
        TOPIC_PREFIX: prefix,
        TOPIC: `${prefix}tributary.inferences`,
        CATALOG_URL: catalogUrl,
        MAX_MESSAGES: '2',
      },
      60_000,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.type)).toEqual([
      'tributary.inferences.InferenceCompleted',
      'tributary.inferences.InferenceCompleted',
    ]);
    const decodedHuge = lines.find((line) => line.key === 'inference-huge');
    expect(decodedHuge.event.feeMinor).toBe((2n ** 60n + 7n).toString());
    expect(decodedHuge.event.modelId).toBe(huge.modelId);
    const decodedRaw = lines.find((line) => line.key === SAMPLE_EVENTS.InferenceCompleted.inferenceId);
    expect(decodedRaw.event.modelId).toBe(SAMPLE_EVENTS.InferenceCompleted.modelId);
  });
});
