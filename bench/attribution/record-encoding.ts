/**
 * Micro-benchmark of kafkajs's produce-side encoding of one send (`npx ts-node --transpile-only
 * bench/attribution/record-encoding.ts`): 470 records of ~1 KiB value with the 11 CloudEvents string
 * headers of a Tributary record (one attribution send of 512 KiB), through kafkajs 2.2.4's Record v0,
 * then its RecordBatch (which copies the records again and computes CRC-32C in JavaScript), then the
 * whole produce request (partition, topic and request framing, each a further copy), then the frame the
 * connection writes to the socket. Each stage is timed with kafkajs's own encoders and with
 * libs/kafka-wire's replacements (kafkajs-encoders.ts). Prints only.
 *
 * Figures are CPU time of this process (user + system, GC included) per record, the median of
 * BENCH_ROUNDS rounds: the machine is shared, and CPU time is less disturbed than wall time.
 */
import { randomBytes } from 'node:crypto';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { crc32c } from '../../libs/kafka-wire/src/crc32c';
import { encodeRecordBatch } from '../../libs/kafka-wire/src/kafkajs-record-batch-encoder';
import {
  encodeRecord,
  kafkajsRecord,
  type KafkajsEncoder,
  type RecordFields,
} from '../../libs/kafka-wire/src/kafkajs-record-encoder';

const RECORDS_PER_SEND = 470;
const VALUE_BYTES = 1_024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** Each round encodes this many sends, so a round lasts long enough (~0.1-1 s) to time on a busy machine. */
const SENDS_PER_ROUND = Number(process.env.BENCH_SENDS ?? 40);

type RecordBatchFn = (options: {
  records: KafkajsEncoder[];
  firstTimestamp: number;
  maxTimestamp: number;
  lastOffsetDelta: number;
  transactional: boolean;
  producerEpoch: number;
  firstSequence: number;
}) => Promise<KafkajsEncoder>;
type ProduceRequestFn = (options: object) => { encode: () => Promise<KafkajsEncoder> };

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules, and has no type declarations for them */
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: RecordBatchFn };
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;
const Long = require('kafkajs/src/utils/long') as { fromValue: (value: number) => unknown };
const frameRequest = require('kafkajs/src/protocol/request') as (options: {
  correlationId: number;
  clientId: string;
  request: object;
}) => Promise<KafkajsEncoder>;
/* eslint-enable @typescript-eslint/no-require-imports */

const PRODUCE_REQUEST_MODULE = require.resolve('kafkajs/src/protocol/requests/produce/v3/request');

function messages(): Array<RecordFields & { timestamp: string }> {
  const now = Date.now();
  return Array.from({ length: RECORDS_PER_SEND }, (_, index) => {
    const key = `inference-${String(index).padStart(8, '0')}`;
    return {
      key,
      value: randomBytes(VALUE_BYTES),
      timestamp: String(now),
      headers: {
        ce_specversion: '1.0',
        ce_id: `attributed-${key}-${randomBytes(8).toString('hex')}`,
        ce_type: 'tributary.attributions.InferenceAttributed',
        ce_source: 'urn:tributary:attribution',
        ce_time: new Date(now).toISOString(),
        ce_subject: key,
        ce_dataschema: `urn:tributary:schema:sha256:${randomBytes(32).toString('hex')}`,
        ce_schemaname: 'tributary.attributions.InferenceAttributed',
        ce_schemaversion: '1',
        'content-type': 'application/avro',
        traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
      },
    };
  });
}

function recordFieldsOf(send: ReturnType<typeof messages>): RecordFields[] {
  const firstTimestamp = Number(send[0]!.timestamp);
  // As kafkajs's produce request builds them: the message spread, its index, its timestamp delta.
  return send.map((message, index) => ({
    ...message,
    offsetDelta: index,
    timestampDelta: Number(message.timestamp) - firstTimestamp,
  }));
}

function batchOf(batch: RecordBatchFn, records: KafkajsEncoder[]): Promise<KafkajsEncoder> {
  const now = Date.now();
  return batch({
    records,
    firstTimestamp: now,
    maxTimestamp: now,
    lastOffsetDelta: records.length - 1,
    transactional: true,
    producerEpoch: 0,
    firstSequence: 0,
  });
}

/** CPU microseconds per record of `run` (which encodes one send), the median over the rounds. */
async function cpuMicrosecondsPerRecord(run: () => unknown): Promise<number> {
  for (let warmup = 0; warmup < SENDS_PER_ROUND; warmup++) await run();
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const before = process.cpuUsage();
    for (let send = 0; send < SENDS_PER_ROUND; send++) await run();
    const used = process.cpuUsage(before);
    rounds.push((used.user + used.system) / (SENDS_PER_ROUND * RECORDS_PER_SEND));
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)]!;
}

interface Encoders {
  readonly label: string;
  readonly record: (fields: RecordFields) => KafkajsEncoder;
  readonly batch: RecordBatchFn;
  readonly crc: (bytes: Buffer) => number;
  /** Whether kafkajs's produce request binds these encoders when loaded now (it binds whatever is installed). */
  readonly request: boolean;
}

async function stages(encoders: Encoders, send: ReturnType<typeof messages>): Promise<void> {
  const fields = recordFieldsOf(send);
  const body = (await batchOf(encoders.batch, fields.map(encoders.record))).buffer.subarray(21);
  const topicData = [
    { topic: 'tributary.attributions', partitions: [{ partition: 0, firstSequence: 0, messages: send }] },
  ];
  const figures: Record<string, number> = {
    Record: await cpuMicrosecondsPerRecord(() => fields.map(encoders.record)),
    'Record + RecordBatch': await cpuMicrosecondsPerRecord(() => batchOf(encoders.batch, fields.map(encoders.record))),
    'of which CRC-32C': await cpuMicrosecondsPerRecord(() => encoders.crc(body)),
  };
  if (encoders.request) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
    const request = require(PRODUCE_REQUEST_MODULE) as ProduceRequestFn;
    const build = () =>
      request({
        acks: -1,
        timeout: 30_000,
        transactionalId: 'bench',
        producerId: Long.fromValue(1),
        producerEpoch: 0,
        topicData,
      });
    figures['whole produce request'] = await cpuMicrosecondsPerRecord(() => build().encode());
    // What the connection sends: kafkajs's request header and size prefix, each level a copy of the request.
    figures['framed for the socket'] = await cpuMicrosecondsPerRecord(() =>
      frameRequest({ correlationId: 1, clientId: 'bench', request: build() }),
    );
  }
  console.log(`\n${encoders.label}`);
  for (const [stage, microseconds] of Object.entries(figures))
    console.log(`  ${stage.padEnd(24)} ${microseconds.toFixed(2).padStart(7)} us`);
}

async function main(): Promise<void> {
  const send = messages();
  const fields = recordFieldsOf(send);
  for (const record of fields) {
    if (!encodeRecord(record).buffer.equals(kafkajsRecord(record).buffer))
      throw new Error('the replacement encodes a bench record differently from kafkajs');
  }
  const recordBytes = encodeRecord(fields[0]!).buffer.length;
  console.log(
    `${RECORDS_PER_SEND} records per send, ${recordBytes} bytes each encoded (value ${VALUE_BYTES}, 11 string headers); CPU us per record, median of ${ROUNDS} rounds of ${SENDS_PER_ROUND} sends`,
  );
  await stages(
    {
      label: 'kafkajs 2.2.4: Record v0, RecordBatch v0, CRC-32C a byte a step',
      record: kafkajsRecord,
      batch: RecordBatch,
      crc: crc32C,
      request: true,
    },
    send,
  );
  await stages(
    {
      label: 'libs/kafka-wire encodeRecord, kafkajs RecordBatch',
      record: encodeRecord,
      batch: RecordBatch,
      crc: crc32C,
      request: false,
    },
    send,
  );
  // The produce request binds its encoders when loaded: drop it so the next load binds the replacements.
  delete require.cache[PRODUCE_REQUEST_MODULE];
  installKafkaWireFastPaths();
  await stages(
    {
      label: 'libs/kafka-wire: encodeRecord, encodeRecordBatch, CRC-32C eight bytes a step, produce request',
      record: encodeRecord,
      batch: encodeRecordBatch,
      crc: (bytes) => crc32c(bytes),
      request: true,
    },
    send,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
