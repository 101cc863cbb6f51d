// Proves the producer client is usable by an outside project with its own kafkajs: libs/producer and the
// libs it imports are compiled with tsc into a fresh project (under .cache/) that has kafkajs 2.2.3
// installed, not the 2.2.4 the services pin; a child `node` process there requires the compiled client,
// publishes one event to the test broker, and reports that kafkajs 2.2.3 did the work, that its produce
// request encoder and record decoder are its own (source and marker compared with a fresh load of the
// same files), and that neither Nest nor TypeORM was loaded. The test then reads the event back.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import { catalogFor, CE_HEADERS, getEventContract, topicCatalog } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { readTopic, testClientOptions, uniqueName, withAdmin } from '@tributary/testing';
import { SAMPLE_EVENTS } from '../../contracts/src/schemas/sample-events.fixture';

const ROOT = path.resolve(__dirname, '../../..');
const PROJECT = path.join(ROOT, '.cache', 'fresh-producer-project');
const BUILD = path.join(PROJECT, 'build');
const KAFKAJS_OUTSIDE = '2.2.3';
/** The libs the producer client imports by alias; each becomes a package of the fresh project. */
const LIBS = ['producer', 'contracts', 'kafka-client'];

/** kafkajs 2.2.3 in the fresh project's own node_modules, installed once and kept across runs. */
function installOutsideKafkajs(): void {
  const manifest = path.join(PROJECT, 'node_modules', 'kafkajs', 'package.json');
  if (
    existsSync(manifest) &&
    (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version === KAFKAJS_OUTSIDE
  )
    return;
  mkdirSync(PROJECT, { recursive: true });
  writeFileSync(
    path.join(PROJECT, 'package.json'),
    JSON.stringify({ name: 'fresh-producer-project', private: true }, null, 2),
  );
  execFileSync(
    'npm',
    ['install', `kafkajs@${KAFKAJS_OUTSIDE}`, '--prefix', PROJECT, '--no-audit', '--no-fund', '--no-package-lock'],
    { stdio: 'pipe', timeout: 170_000 },
  );
}

/**
 * The client compiled as a package would ship it: JavaScript, path aliases left as package names that
 * the fresh project's node_modules resolves to the compiled libs, the Avro schemas beside them.
 */
function compileProducerClient(): void {
  rmSync(BUILD, { recursive: true, force: true });
  const tsconfig = path.join(PROJECT, 'tsconfig.build.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.json'),
      compilerOptions: {
        outDir: BUILD,
        rootDir: ROOT,
        baseUrl: ROOT,
        sourceMap: false,
        declaration: false,
        types: ['node'],
        noEmit: false,
        incremental: false,
      },
      include: [],
      files: [path.join(ROOT, 'libs/producer/src/index.ts')],
    }),
  );
  execFileSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', tsconfig], { stdio: 'pipe', timeout: 170_000 });
  cpSync(path.join(ROOT, 'schemas'), path.join(BUILD, 'schemas'), { recursive: true });
  for (const lib of LIBS) {
    const packageDir = path.join(PROJECT, 'node_modules', '@tributary', lib);
    mkdirSync(packageDir, { recursive: true });
    writeFileSync(
      path.join(packageDir, 'index.js'),
      `module.exports = require(${JSON.stringify(path.join(BUILD, 'libs', lib, 'src', 'index.js'))});\n`,
    );
  }
}

/** What the outside project runs: require the client, publish one event, then look at kafkajs. */
const CHILD = `
const PRODUCE_REQUEST = 'kafkajs/src/protocol/requests/produce/v3/request';
const RECORD_DECODER = 'kafkajs/src/protocol/recordBatch/record/v0/decoder';
/** The module as loaded now, against a fresh load of the same file: the same source, and no Tributary marker. */
function ownOf(module, marker) {
  const file = require.resolve(module);
  const loaded = require(file);
  const cached = require.cache[file];
  delete require.cache[file];
  const fresh = require(file);
  require.cache[file] = cached;
  return loaded.toString() === fresh.toString() && loaded[Symbol.for(marker)] === undefined;
}
(async () => {
  const { TributaryProducer } = require('@tributary/producer');
  const input = JSON.parse(process.env.FRESH_PRODUCER_INPUT);
  const producer = await TributaryProducer.connect({ ...input.client, source: 'urn:tributary:fresh-project', topicPrefix: input.prefix, ackTimeoutMs: 15000 });
  try {
    const result = await producer.publish('DatanetCreated', { ...input.data, occurredAt: BigInt(input.data.occurredAt) });
    const loaded = Object.keys(require.cache);
    process.stdout.write(JSON.stringify({
      result,
      kafkajsVersion: require('kafkajs/package.json').version,
      kafkajsPath: require.resolve('kafkajs'),
      produceRequestOwn: ownOf(PRODUCE_REQUEST, 'tributary.kafkajsEncoders'),
      recordDecoderOwn: ownOf(RECORD_DECODER, 'tributary.kafkajsRecordDecoder'),
      nestOrTypeormLoaded: loaded.filter((file) => /[\\\\/]node_modules[\\\\/](@nestjs|typeorm)[\\\\/]/.test(file)).length,
    }));
  } finally {
    await producer.disconnect();
  }
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe('the producer client in a fresh project with kafkajs 2.2.3', () => {
  const prefix = `${uniqueName('fresh')}.`;

  beforeAll(async () => {
    installOutsideKafkajs();
    compileProducerClient();
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalogFor(prefix)), 1));
  });

  it('publishes an event through kafkajs 2.2.3, leaving kafkajs unpatched and Nest and TypeORM unloaded', async () => {
    const data = { ...SAMPLE_EVENTS.DatanetCreated, eventId: uniqueName('fresh-event') };
    // JSON carries no bigint: the child turns occurredAt back into one.
    const input = {
      client: testClientOptions('fresh-project'),
      prefix,
      data: { ...data, occurredAt: data.occurredAt.toString() },
    };
    const output = execFileSync(process.execPath, ['-e', CHILD], {
      cwd: PROJECT,
      env: { PATH: process.env.PATH, FRESH_PRODUCER_INPUT: JSON.stringify(input) },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const report = JSON.parse(output) as {
      result: { eventId: string; topic: string; offset: string };
      kafkajsVersion: string;
      kafkajsPath: string;
      produceRequestOwn: boolean;
      recordDecoderOwn: boolean;
      nestOrTypeormLoaded: number;
    };
    expect(report.kafkajsVersion).toBe(KAFKAJS_OUTSIDE);
    expect(report.kafkajsPath.startsWith(path.join(PROJECT, 'node_modules', 'kafkajs'))).toBe(true);
    expect(report.produceRequestOwn).toBe(true);
    expect(report.recordDecoderOwn).toBe(true);
    expect(report.nestOrTypeormLoaded).toBe(0);

    const topic = `${prefix}${getEventContract('DatanetCreated').topic}`;
    expect(report.result.topic).toBe(topic);
    const isOurs = (message: KafkaMessage) =>
      message.offset === report.result.offset && message.headers?.[CE_HEADERS.id]?.toString() === data.eventId;
    const landed = (await readTopic(topic, isOurs, 15_000)).filter(isOurs);
    expect(landed).toHaveLength(1);
  });
});
