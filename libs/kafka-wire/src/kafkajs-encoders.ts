/**
 * Puts libs/kafka-wire's produce request encoder in the place of kafkajs's own, for every kafkajs producer
 * of the process: kafkajs's produce-side encoding (an Encoder per record and per header, a fresh
 * zero-filled buffer and a copy of the whole send at each of the batch's and the request's framing
 * levels, CRC-32C a byte at a time) was about 30% of the attribution service's CPU. The replacement
 * writes kafkajs 2.2.4's exact bytes; see kafkajs-record-encoder.ts, kafkajs-record-batch-encoder.ts,
 * kafkajs-produce-request-encoder.ts and kafkajs-encoders.spec.ts.
 */
import {
  createProduceRequest,
  PRODUCE_REQUEST_MODULE,
  type ProduceRequestBuilder,
} from './kafkajs-produce-request-encoder';
import { encodeRecord, kafkajsRecord, type RecordFields } from './kafkajs-record-encoder';

/** The kafkajs release whose wire encoding the replacements reproduce; any other version refuses to install. */
export const KAFKAJS_VERSION_PINNED = '2.2.4';

/** Each binds the version below it when loaded (v4 and v5 bind v3), so none may be loaded before the swap. */
const PRODUCE_REQUEST_VERSIONS = [3, 4, 5, 6, 7].map(
  (version) => `kafkajs/src/protocol/requests/produce/v${version}/request`,
);
const INSTALLED = Symbol.for('tributary.kafkajsEncoders');

/** A record that takes every branch of the record encoder's fast path, compared byte for byte before installing. */
function sampleRecord(): RecordFields {
  return {
    offsetDelta: 300,
    timestampDelta: -1_234_567_890_123,
    key: 'inférence-1',
    value: Buffer.from([0, 1, 2, 254, 255]),
    headers: {
      ce_id: 'évènement ☃ 𝄞',
      'content-type': Buffer.from('application/avro'),
      multi: ['a', Buffer.alloc(0), ''],
      long: 'x'.repeat(200),
    },
  };
}

/** Throws unless kafkajs is the version the replacements (encoders and record decoder) reproduce. */
export function assertPinnedVersion(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- read at call time: the version installed now
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_VERSION_PINNED) {
    throw new Error(
      `kafkajs ${version} is installed, but libs/kafka-wire's kafkajs encoders reproduce kafkajs ${KAFKAJS_VERSION_PINNED}'s wire format: ` +
        "compare the new version's protocol/encoder, recordBatch/record/v0, recordBatch/v0 and requests/produce/v3, then update KAFKAJS_VERSION_PINNED and the specs",
    );
  }
}

/**
 * Swaps kafkajs's produce request v3 (which v4 to v7 build on) for libs/kafka-wire's, through the require
 * cache (under jest, the test file's module registry), so that kafkajs's produce request index picks it up
 * when it first loads a version, at a producer's first send. Throws, rather than leaving kafkajs's
 * encoders silently in place, when kafkajs is not the pinned version, when a produce request version was
 * already loaded with kafkajs's own bound, or when the record encoders disagree on a sample record.
 * Calling it again is a no-op.
 */
export function installKafkajsEncoders(): void {
  assertPinnedVersion();
  const producePath = require.resolve(PRODUCE_REQUEST_MODULE);
  const installed = require.cache[producePath];
  if (installed !== undefined && (installed.exports as { [INSTALLED]?: boolean })[INSTALLED] === true) return;
  const loaded = PRODUCE_REQUEST_VERSIONS.filter((module) => require.cache[require.resolve(module)] !== undefined);
  if (loaded.length > 0) {
    throw new Error(
      `kafkajs encoders: ${loaded.join(', ')} was loaded before the replacement was installed, so it holds kafkajs's own ` +
        'encoders; call installKafkaWireFastPaths() (@tributary/kafka-wire) first thing in main, before any producer sends',
    );
  }
  const expected = kafkajsRecord(sampleRecord()).buffer;
  const actual = encodeRecord(sampleRecord()).buffer;
  if (!actual.equals(expected)) {
    throw new Error(
      `kafkajs encoders: the record encoder's bytes differ from kafkajs's on the sample record (${actual.toString('hex')} != ${expected.toString('hex')})`,
    );
  }
  // Loaded now, it binds kafkajs's own record encoders: the replacement's fallback.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
  const replacement = createProduceRequest(require(producePath) as ProduceRequestBuilder);
  Object.defineProperty(replacement, INSTALLED, { value: true });
  const produceModule = require.cache[producePath];
  if (produceModule === undefined)
    throw new Error(`kafkajs encoders: ${PRODUCE_REQUEST_MODULE} is not in the require cache after loading it`);
  produceModule.exports = replacement;
}
