// Proves the README's recipe for Java analytics readers on the real broker and the real schema registry:
// docs/examples/java-consumer (the Kafka consumer and Apicurio Registry's Avro deserializer from Maven
// Central, no code of ours), built here with Maven and run with java, decodes every record of every event
// topic, Confluent-framed with the registry's ids, every value equal to what was sent and amounts above
// 2^53 exact (Java longs). Nothing is skipped: no Maven, no Java or an unresolvable dependency fails it.
import fs from 'node:fs';
import os from 'node:os';
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

const PROJECT = path.resolve(__dirname, '../../../docs/examples/java-consumer');
/** Resolving the serde and its dependencies the first time takes tens of seconds; after that, a few. */
const MAVEN_BUILD_TIMEOUT_MS = 150_000;
const READ_TIMEOUT_MS = 60_000;

/** The registry's core API beside the Confluent-compatible one the test stack names. */
function coreApiUrl(ccompatUrl: string): string {
  const url = new URL(ccompatUrl);
  url.pathname = '/apis/registry/v3';
  return url.toString().replace(/\/$/, '');
}

describe('an outside Java reader using Apicurio Registry Avro serde', () => {
  let stage: ReaderStage;
  let buildDir: string;

  beforeAll(async () => {
    buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-java-consumer-'));
    stage = await stageFramedTopics('java-reader');
  });

  afterAll(async () => {
    await stage?.stop();
    if (buildDir) fs.rmSync(buildDir, { recursive: true, force: true });
  });

  it('decodes every record of every event topic, amounts above 2^53 exact', async () => {
    const build = await runProcess(
      'mvn',
      ['-q', '-B', 'package', `-Dbuild.dir=${buildDir}`],
      {},
      MAVEN_BUILD_TIMEOUT_MS,
      PROJECT,
    );
    if (build.code !== 0)
      throw new Error(
        `building ${PROJECT} with Maven failed (${build.timedOut ? `no result in ${MAVEN_BUILD_TIMEOUT_MS} ms` : `exit ${build.code}`}): ` +
          `is mvn on PATH and Maven Central reachable? Its output:\n${build.stdout}\n${build.stderr}`,
      );

    const run = await runProcess(
      'java',
      [
        '-cp',
        [path.join(buildDir, 'classes'), path.join(buildDir, 'lib', '*')].join(path.delimiter),
        'tributary.examples.ReadTopics',
      ],
      {
        BROKERS: testBrokers().join(','),
        KAFKA_USERNAME: stage.reader,
        KAFKA_PASSWORD: stage.readerPassword,
        KAFKA_CA_FILE: stage.caFile,
        REGISTRY_URL: coreApiUrl(stage.registryUrl),
        TOPICS: stage.eventTopics.join(','),
        GROUP_ID: `${stage.prefix}analytics.${stage.reader}.java`,
        MAX_MESSAGES: String(stage.sent.size),
        TIMEOUT_MS: String(READ_TIMEOUT_MS),
      },
      READ_TIMEOUT_MS + 30_000,
    );
    const printed = run.stdout
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('{')).length;
    expect({ code: run.code, timedOut: run.timedOut, printed, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      timedOut: false,
      printed: stage.sent.size,
      stderr: '',
    });
    process.stdout.write(`the Java reader decoded:\n${run.stdout}`);
    const lines = expectEverySentRecordDecoded(stage, run.stdout);
    expect(new Set(lines.map((line) => line.topic))).toEqual(new Set(stage.eventTopics));
    const amounts = lines.flatMap((line) => [line.event.feeMinor, line.event.amountMinor]).filter(Boolean);
    expect(amounts).toEqual(expect.arrayContaining([LONG_MAX.toString(), ABOVE_2_53.toString()]));
  });
});
